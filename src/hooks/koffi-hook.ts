/**
 * Instruments the app's own koffi. Every way in ends at a koffi module object's `load`: the CJS
 * exports, the native object the ESM default export is, and the ESM named export (which only the
 * ESM loader shim can replace). A library loaded from an SSPI provider gets its declaration methods
 * wrapped per instance, since koffi 3's `LibraryHandle.prototype.func` cannot be written.
 */
import { agentError, debug } from '../diagnostics.js';
import type * as LifecycleModule from '../core/lifecycle.js';
import type { Provider } from '../core/observed-call.js';
import type { HandleRegistry } from '../core/registry.js';
import { sspiFunction } from '../sspi/functions.js';
import type { ProviderMatcher } from '../sspi/libraries.js';
import type { StackPolicy } from '../core/stacks.js';
import type { HandleKind, HandleReleaser, TrackedHandle } from '../types.js';
import { handleWords } from '../core/handle-keys.js';
import type { NativeMemory } from './handle-shapes.js';
import { nativeMemory, type KoffiMemoryModule } from './native-memory.js';
import { NegotiateHandles } from './negotiate-handles.js';
import { onDemand } from '../on-demand.js';
import { PatchingHook } from './patcher.js';
import { isWrapped, wrapSspiFunction, type WrapperContext } from './sspi-function-wrapper.js';

export interface KoffiHookOptions {
  readonly registry: HandleRegistry;
  readonly providers: ProviderMatcher;
  readonly stacks: StackPolicy;
  readonly guard: boolean;
  /** Runs before a provider library is unloaded (the agent's ordered cleanup, when enabled). */
  readonly beforeUnload: (provider: Provider) => void;
}

/** The parts of a koffi module the hook touches. */
interface KoffiModule extends KoffiMemoryModule {
  load?: (...args: unknown[]) => unknown;
  default?: KoffiModule;
}

type Declarer = (...args: unknown[]) => unknown;

/** The lifecycle rules, loaded at the first call (hooks/call-observer.ts) or unload. */
const lifecycle = onDemand<typeof LifecycleModule>('./core/lifecycle.js');

/** koffi 3 puts these on each library beside the prototype's `func`; all return declared functions. */
const DECLARATION_METHODS = ['func', 'cdecl', 'stdcall', 'fastcall', 'thiscall'] as const;

/** The ways an app unloads a library: `lib.unload()`, and `using` / `lib[Symbol.dispose]()` in koffi 3. */
const UNLOAD_METHODS: readonly PropertyKey[] = ['unload', ...(typeof Symbol.dispose === 'symbol' ? [Symbol.dispose] : [])];

/** A koffi module object, told apart from others by the functions only koffi has together. */
export function isKoffiModule(value: unknown): value is KoffiModule {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const m = value as Record<string, unknown>;
  return typeof m.load === 'function' && typeof m.struct === 'function' && typeof m.proto === 'function' && typeof m.decode === 'function';
}

export class KoffiHook extends PatchingHook {
  private readonly patchedModules = new WeakSet<object>();
  private readonly wrappedLoads = new WeakSet<Function>();
  private readonly instrumented = new WeakSet<object>();
  constructor(private readonly options: KoffiHookOptions) {
    super('koffi');
  }

  /**
   * Patches a koffi module object (and the native object under `default`) in place. Idempotent:
   * koffi's CJS and ESM entries share the native object, and an app may reach it both ways.
   */
  patchModule(mod: unknown): void {
    if (!isKoffiModule(mod) || this.patchedModules.has(mod)) return;
    this.patchedModules.add(mod);
    this.patchLoad(mod);
    if (isKoffiModule(mod.default) && !this.patchedModules.has(mod.default)) {
      this.patchedModules.add(mod.default);
      this.patchLoad(mod.default);
    }
    debug('koffi module instrumented');
  }

  /** The function to stand in for a `load` an ESM namespace captured before any patch. */
  wrapLoad(load: Function, mod: KoffiModule): Function {
    if (this.wrappedLoads.has(load)) return load;
    const hook = this;
    const memory = nativeMemory(mod);
    // A method, not a function expression: like koffi's own `load`, it has no `prototype`.
    const { load: wrapped } = {
      load(this: unknown, ...args: unknown[]) {
        const lib = load.apply(this, args);
        // Also while suspended: the library's patches then wait for resume().
        try {
          hook.instrumentLibrary(lib, args[0], memory);
        } catch (err) {
          agentError('koffi.load', err);
        }
        return lib;
      },
    };
    Object.defineProperty(wrapped, 'name', { value: load.name, configurable: true });
    this.wrappedLoads.add(wrapped);
    return wrapped;
  }

  private patchLoad(mod: KoffiModule): void {
    if (typeof mod.load !== 'function') return;
    this.patcher.replace(mod, 'load', this.wrapLoad(mod.load, mod), false);
  }

  private instrumentLibrary(lib: unknown, path: unknown, memory: NativeMemory): void {
    const library = this.options.providers.match(path);
    if (!library || typeof lib !== 'object' || lib === null || this.instrumented.has(lib)) return;
    this.instrumented.add(lib);
    const methods = lib as Record<PropertyKey, unknown>;
    const originalFunc = methods.func as Declarer;
    const provider: Provider = { library, releasers: releasers(lib, originalFunc) };
    const { registry, stacks, guard } = this.options;
    const ctx: WrapperContext = { registry, stacks, guard, memory, provider, state: this.state, negotiate: new NegotiateHandles() };
    for (const method of DECLARATION_METHODS) {
      const declare = methods[method];
      if (typeof declare !== 'function' || declarers.has(declare)) continue;
      this.patcher.replace(lib, method, declaringWrapper(declare as Declarer, ctx), false);
    }
    for (const method of UNLOAD_METHODS) {
      const unload = methods[method];
      if (typeof unload === 'function') this.patcher.replace(lib, method, this.unloadWrapper(unload as Declarer, provider), false);
    }
    debug(`instrumenting SSPI provider ${library}`);
  }

  /** Unloading a provider with live handles breaks SSPI's rule (contexts first, then the DLL): say so, clean up if asked. */
  private unloadWrapper(unload: Declarer, provider: Provider): Declarer {
    const { registry, beforeUnload } = this.options;
    const wrapper = function (this: unknown, ...args: unknown[]) {
      try {
        const live = registry.settled().liveHandles((h) => h.provider === provider);
        if (live.length > 0) {
          lifecycle().recordUnload(registry, provider.library, live);
          beforeUnload(provider);
        }
      } catch (err) {
        agentError('koffi.unload', err);
      }
      return unload.apply(this, args);
    };
    Object.defineProperty(wrapper, 'name', { value: unload.name, configurable: true });
    return wrapper;
  }
}

/** A declaration method whose SSPI results come back wrapped; everything else passes through. */
function declaringWrapper(declare: Declarer, ctx: WrapperContext): Declarer {
  const wrapper = function (this: unknown, ...args: unknown[]) {
    const declared = declare.apply(this, args);
    try {
      return wrapDeclared(declared, ctx);
    } catch (err) {
      agentError('koffi.func', err);
      return declared;
    }
  };
  Object.defineProperty(wrapper, 'name', { value: declare.name, configurable: true });
  declarers.add(wrapper);
  return wrapper;
}

/** Declaration methods already wrapped, so a library reached twice is not wrapped twice. */
const declarers = new WeakSet<Function>();

function wrapDeclared(declared: unknown, ctx: WrapperContext): unknown {
  if (typeof declared !== 'function' || isWrapped(declared)) return declared;
  const info = (declared as { info?: { name?: unknown } }).info;
  const name = typeof info?.name === 'string' ? info.name : declared.name;
  const spec = sspiFunction(name);
  if (!spec) return declared;
  debug(`wrapped ${name} on ${ctx.provider.library}`);
  return wrapSspiFunction(declared as Parameters<typeof wrapSspiFunction>[0], spec, ctx);
}

/**
 * How the agent releases a provider's handles itself: its own declarations of the release
 * functions, made with the library's original (unwrapped) `func` the first time they are needed,
 * taking the handle as 16 bytes of memory (or the buffer's address), whatever shape the app used.
 */
function releasers(lib: object, func: Declarer): Partial<Record<HandleKind, HandleReleaser>> {
  const declared = new Map<string, (arg: unknown) => unknown>();
  const native = (name: string) => {
    let fn = declared.get(name);
    if (!fn) {
      fn = func.call(lib, `int32 __stdcall ${name}(void *handle)`) as (arg: unknown) => unknown;
      declared.set(name, fn);
    }
    return fn;
  };
  const handleMemory = (h: TrackedHandle) => {
    const [lower, upper] = handleWords(typeof h.key === 'string' ? BigInt(h.key) : h.key);
    const bytes = Buffer.alloc(16);
    bytes.writeBigUInt64LE(lower, 0);
    bytes.writeBigUInt64LE(upper, 8);
    return bytes;
  };
  return {
    credential: { release: (h) => Number(native('FreeCredentialsHandle')(handleMemory(h))) },
    context: { release: (h) => Number(native('DeleteSecurityContext')(handleMemory(h))) },
    buffer: { release: (h) => Number(native('FreeContextBuffer')(BigInt(h.key))) },
  };
}
