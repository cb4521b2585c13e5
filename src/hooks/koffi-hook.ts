/**
 * Instruments the app's own koffi. Every way in ends at a koffi module object's `load`: the CJS
 * exports, the native object the ESM default export is, and the ESM named export (which only the
 * ESM loader shim can replace). A library loaded from an SSPI provider gets its declaration methods
 * wrapped per instance, since koffi 3's `LibraryHandle.prototype.func` cannot be written.
 */
import { agentError, debug } from '../diagnostics.js';
import type { HandleRegistry } from '../registry.js';
import { sspiFunction } from '../sspi/functions.js';
import type { ProviderMatcher } from '../sspi/libraries.js';
import type { StackCapturer } from '../stacks.js';
import type { PointerReader } from './handle-shapes.js';
import { isWrapped, wrapSspiFunction, type WrapperContext } from './sspi-function-wrapper.js';

export interface KoffiHookOptions {
  readonly registry: HandleRegistry;
  readonly providers: ProviderMatcher;
  readonly captureStack: StackCapturer;
}

/** The parts of a koffi module the hook touches. */
interface KoffiModule {
  load?: (...args: unknown[]) => unknown;
  decode?: (...args: unknown[]) => unknown;
  default?: KoffiModule;
}

type Declarer = (...args: unknown[]) => unknown;

/** koffi 3 puts these on each library beside the prototype's `func`; all return declared functions. */
const DECLARATION_METHODS = ['func', 'cdecl', 'stdcall', 'fastcall', 'thiscall'] as const;

/** How to undo one patch: put back an own property as it was, or remove the one we added. */
interface Restore {
  target: object;
  key: PropertyKey;
  descriptor: PropertyDescriptor | undefined;
}

/** A koffi module object, told apart from others by the functions only koffi has together. */
export function isKoffiModule(value: unknown): value is KoffiModule {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const m = value as Record<string, unknown>;
  return typeof m.load === 'function' && typeof m.struct === 'function' && typeof m.proto === 'function' && typeof m.decode === 'function';
}

export class KoffiHook {
  private readonly restores: Restore[] = [];
  private readonly patchedModules = new WeakSet<object>();
  private readonly originalLoads = new WeakMap<Function, Function>();
  private readonly wrappedLoads = new WeakSet<Function>();
  private readonly instrumented = new WeakSet<object>();

  constructor(private readonly options: KoffiHookOptions) {}

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
    const originalLoad = this.originalLoads.get(load) ?? load;
    const hook = this;
    const reader = pointerReader(mod);
    const wrapped = function (this: unknown, ...args: unknown[]) {
      const lib = originalLoad.apply(this, args);
      try {
        hook.instrumentLibrary(lib, args[0], reader);
      } catch (err) {
        agentError('koffi.load', err);
      }
      return lib;
    };
    Object.defineProperty(wrapped, 'name', { value: originalLoad.name, configurable: true });
    this.wrappedLoads.add(wrapped);
    this.originalLoads.set(wrapped, originalLoad);
    return wrapped;
  }

  /** Puts every patched property back as it was, newest first. */
  unpatchAll(): void {
    for (const { target, key, descriptor } of this.restores.splice(0).reverse()) {
      try {
        if (descriptor) Object.defineProperty(target, key, descriptor);
        else delete (target as Record<PropertyKey, unknown>)[key];
      } catch (err) {
        agentError('koffi.unpatch', err);
      }
    }
  }

  private patchLoad(mod: KoffiModule): void {
    if (typeof mod.load !== 'function') return;
    this.replace(mod, 'load', this.wrapLoad(mod.load, mod));
  }

  private instrumentLibrary(lib: unknown, path: unknown, readPointer: PointerReader): void {
    const library = this.options.providers.match(path);
    if (!library || typeof lib !== 'object' || lib === null || this.instrumented.has(lib)) return;
    this.instrumented.add(lib);
    const ctx: WrapperContext = { ...this.options, readPointer, library };
    for (const method of DECLARATION_METHODS) {
      const declare = (lib as Record<string, unknown>)[method];
      if (typeof declare !== 'function' || declarers.has(declare)) continue;
      this.replace(lib, method, declaringWrapper(declare as Declarer, ctx));
    }
    debug(`instrumenting SSPI provider ${library}`);
  }

  private replace(target: object, key: string, value: Function): void {
    this.restores.push({ target, key, descriptor: Object.getOwnPropertyDescriptor(target, key) });
    Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: false });
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
  debug(`wrapped ${name} on ${ctx.library}`);
  return wrapSspiFunction(declared as Parameters<typeof wrapSspiFunction>[0], spec, ctx);
}

/** Reads a handle's two ULONG_PTRs through koffi itself, so no second FFI is ever loaded. */
function pointerReader(mod: KoffiModule): PointerReader {
  const decode = mod.decode ?? mod.default?.decode;
  return (pointer) => {
    if (typeof decode !== 'function') return undefined;
    const parts = decode(pointer, 'uint64_t', 2) as ArrayLike<bigint | number> | undefined;
    return parts && parts.length >= 2 ? [parts[0]!, parts[1]!] : undefined;
  };
}
