/**
 * Instruments node-expose-sspi, a Windows native addon with its own SSPI binding: its exported `sspi`
 * object's functions take option objects and hand handles back as strings `"0x<dwUpper>.0x<dwLower>"`,
 * which serve as the registry key as they are. The functions are replaced in place on that object
 * (the addon's own middleware, `sso.auth()`, calls them through the same object), each call is turned
 * into the same `ObservedCall` facts as a koffi call (read as node-expose-sspi-calls.ts says), and the
 * lifecycle rules do the rest. Strings have no object to watch, so the GC detector does not apply;
 * age, handshake and exit detection do.
 */
import * as clock from '../core/clock.js';
import { agentError, debug } from '../diagnostics.js';
import { guardCall, recordBlockedCall, recordObservedCall, isRelease, mayCreateHandle } from '../core/lifecycle.js';
import type { Provider } from '../core/observed-call.js';
import { CallFacts } from './call-facts.js';
import type { HandleRegistry } from '../core/registry.js';
import { sspiFunction, type SspiFunction } from '../sspi/functions.js';
import { SEC_E_INTERNAL_ERROR, SEC_E_INVALID_HANDLE, SEC_E_OK } from '../sspi/status.js';
import type { StackPolicy } from '../core/stacks.js';
import { MAPPINGS, addonError, resultStatus, thrownStatus, tokenIn, type AddonFunction, type Input, type Inputs, type Mapping } from './node-expose-sspi-calls.js';
import { PatchingHook } from './patcher.js';
import { jsTokenVerdict } from './token-reader.js';
import type { TokenVerdict } from '../sspi/negotiation-tokens.js';
import type { AllocationSite, HandleReleaser, TrackedHandle } from '../types.js';

export interface NodeExposeSspiHookOptions {
  readonly registry: HandleRegistry;
  readonly stacks: StackPolicy;
  readonly guard: boolean;
}

export { resultStatus, thrownStatus } from './node-expose-sspi-calls.js';

/** The `library` the registry records for the addon's handles. */
export const NODE_EXPOSE_SSPI_LIBRARY = 'node-expose-sspi';

/** The addon's `sspi` object: an object with its SSPI functions on it. */
function sspiObjectOf(exports: unknown): Input | undefined {
  if ((typeof exports !== 'object' && typeof exports !== 'function') || exports === null) return undefined;
  let sspi: unknown;
  try {
    sspi = (exports as Input).sspi;
  } catch {
    return undefined;
  }
  if (typeof sspi !== 'object' || sspi === null) return undefined;
  const s = sspi as Input;
  return typeof s.AcquireCredentialsHandle === 'function' && typeof s.AcceptSecurityContext === 'function' ? s : undefined;
}

export class NodeExposeSspiHook extends PatchingHook {
  private readonly patched = new WeakSet<object>();

  constructor(private readonly options: NodeExposeSspiHookOptions) {
    super('node-expose-sspi');
  }

  /** Wraps the functions of the `sspi` object on node-expose-sspi's exports (or its `lib/api`), once. */
  patchModule(exports: unknown): void {
    const sspi = sspiObjectOf(exports);
    if (!sspi || this.patched.has(sspi)) return;
    this.patched.add(sspi);
    const originals = new Map<string, AddonFunction>();
    for (const name of Object.keys(MAPPINGS)) {
      const fn = sspi[name];
      if (typeof fn === 'function') originals.set(name, fn as AddonFunction);
    }
    const provider: Provider = { library: NODE_EXPOSE_SSPI_LIBRARY, releasers: releasers(sspi, originals) };
    for (const [name, original] of originals) {
      const mapping = MAPPINGS[name]!;
      const spec = sspiFunction(mapping.native);
      if (!spec) continue;
      this.patcher.replace(sspi, name, this.wrap(name, original, spec, mapping, provider), true);
    }
    debug(`node-expose-sspi instrumented (${originals.size} SSPI functions)`);
  }

  private wrap(name: string, original: AddonFunction, fn: SspiFunction, mapping: Mapping, provider: Provider): AddonFunction {
    const { registry, stacks, guard } = this.options;
    const state = this.state;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      if (!state.enabled) return original.apply(this, args);
      let inputs: Inputs | undefined;
      let site: AllocationSite | undefined;
      let blocked = false;
      try {
        inputs = mapping.read(args);
        const verdict = guard ? guardCall(registry, fn, inputs) : undefined;
        if (verdict) {
          blocked = true;
          recordBlockedCall(registry, fn, verdict, stacks.always(wrapped));
        } else if (mayCreateHandle(fn, inputs.context)) {
          site = stacks.forCreation(fn.name, wrapped, clock.now());
        } else if (isRelease(fn)) {
          site = stacks.forRelease(fn.name, wrapped, clock.now());
        }
      } catch (err) {
        agentError('node-expose-sspi.before', err);
        inputs = undefined;
      }
      // A released handle never reaches SSPI: the caller gets the error the addon throws for SEC_E_INVALID_HANDLE.
      if (blocked) throw addonError(name, SEC_E_INVALID_HANDLE);
      const start = clock.now();
      let result: unknown;
      try {
        result = original.apply(this, args);
      } catch (err) {
        const status = thrownStatus(err);
        if (inputs && status !== undefined) observe(fn, mapping, provider, registry, inputs, site, status, undefined, start);
        throw err;
      }
      if (inputs) observe(fn, mapping, provider, registry, inputs, site, resultStatus(result), result, start);
      return result;
    };
    Object.defineProperty(wrapped, 'name', { value: original.name, configurable: true });
    return wrapped;
  }
}

const sharedFacts = new CallFacts();

function observe(
  fn: SspiFunction,
  mapping: Mapping,
  provider: Provider,
  registry: HandleRegistry,
  inputs: Inputs,
  site: AllocationSite | undefined,
  status: number,
  result: unknown,
  start: number,
): void {
  // One facts object serves every call, as for koffi's synchronous calls (call-facts.ts): the rules
  // copy it into the call log. A call observed while it is in use (from inside the rules) gets its own.
  const call = sharedFacts.busy ? new CallFacts() : sharedFacts;
  try {
    const end = clock.now();
    call.begin(fn, provider, inputs.credential, inputs.context, undefined, inputs.packageName, inputs.credentialUse);
    call.status = status;
    call.durationSeconds = (end - start) / 1000;
    // The registry applies the call later: its time is now.
    call.at = end;
    call.site = site;
    call.outHandle = result !== undefined && mapping.out ? mapping.out(result) : undefined;
    call.tokenVerdict = tokenVerdictOf(fn, inputs, status, result);
    recordObservedCall(registry, call);
  } catch (err) {
    agentError('node-expose-sspi.after', err);
  } finally {
    call.end();
  }
}

/** ISC/ASC: the package the server's token shows (ISC's input, ASC's output), else the client's. */
function tokenVerdictOf(fn: SspiFunction, inputs: Inputs, status: number, result: unknown): TokenVerdict | undefined {
  if (status < 0 || (fn.role !== 'init-context' && fn.role !== 'accept-context')) return undefined;
  const output = tokenIn(result);
  return fn.role === 'init-context' ? jsTokenVerdict(inputs.token, output) : jsTokenVerdict(output, inputs.token);
}

/** Forced cleanup through the addon's own (unwrapped) Delete/Free, with the recorded handle string. */
function releasers(sspi: Input, originals: Map<string, AddonFunction>): Provider['releasers'] {
  const through = (name: string): HandleReleaser | undefined => {
    const original = originals.get(name);
    if (!original) return undefined;
    return {
      release(h: TrackedHandle): number {
        try {
          original.call(sspi, h.key);
          return SEC_E_OK;
        } catch (err) {
          return thrownStatus(err) ?? SEC_E_INTERNAL_ERROR;
        }
      },
    };
  };
  const releasers: Provider['releasers'] = {};
  const context = through('DeleteSecurityContext');
  const credential = through('FreeCredentialsHandle');
  if (context) releasers.context = context;
  if (credential) releasers.credential = credential;
  return releasers;
}
