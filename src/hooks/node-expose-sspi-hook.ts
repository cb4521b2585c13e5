/**
 * Instruments node-expose-sspi, a Windows native addon with its own SSPI binding: its exported `sspi`
 * object's functions take option objects and hand handles back as strings `"0x<dwUpper>.0x<dwLower>"`,
 * which serve as the registry key as they are. The functions are replaced in place on that object
 * (the addon's own middleware, `sso.auth()`, calls them through the same object), each call is turned
 * into the same `ObservedCall` facts as a koffi call, and the lifecycle rules do the rest.
 *
 * What the addon does (node-expose-sspi 0.1.x, cpp/api/sspi/*.cc): it calls the `W` functions of
 * secur32.dll; `credentialUse` is a flag name (`'SECPKG_CRED_INBOUND'`, …; anything but a string
 * throws; absent means SECPKG_CRED_BOTH); InitializeSecurityContext's first call is the one without
 * `contextHandle` (or with `isFirstCall: true`), AcceptSecurityContext's the one without a string
 * `contextHandle`; `SECURITY_STATUS` comes back as a name, `0x%08x` or a decimal number; every error
 * but AcceptSecurityContext's SEC_E_LOGON_DENIED is thrown, with `(error code: 0x%08x)` in the message;
 * Delete/Free return nothing and throw on failure. Strings have no object to watch, so the GC
 * detector does not apply; age, handshake and exit detection do.
 */
import { performance } from 'node:perf_hooks';
import { agentError, debug } from '../diagnostics.js';
import { guardCall, recordObservedCall, isRelease, mayCreateHandle } from '../lifecycle.js';
import type { ObservedCall, Provider } from '../observed-call.js';
import type { HandleRegistry } from '../registry.js';
import { sspiFunction, type SspiFunction } from '../sspi/functions.js';
import { SEC_E_OK, statusName } from '../sspi/status.js';
import type { StackPolicy } from '../stacks.js';
import type { TokenVerdict } from '../sspi/negotiation-tokens.js';
import { Patcher } from './patcher.js';
import { jsTokenVerdict } from './token-reader.js';
import type { AllocationSite, HandleReleaser, ReadHandle, TrackedHandle } from '../types.js';

export interface NodeExposeSspiHookOptions {
  readonly registry: HandleRegistry;
  readonly stacks: StackPolicy;
  readonly guard: boolean;
}

/** The `library` the registry records for the addon's handles. */
export const NODE_EXPOSE_SSPI_LIBRARY = 'node-expose-sspi';

const SEC_E_INTERNAL_ERROR = 0x80090304 | 0;
const SEC_E_INVALID_HANDLE = 0x80090301 | 0;

/** The statuses the addon names; any other arrives as `0x%08x` (AcceptSecurityContext) or a decimal (InitializeSecurityContext). */
const NAMED_STATUS: Record<string, number> = {
  SEC_E_OK: 0,
  SEC_I_CONTINUE_NEEDED: 0x00090312,
  SEC_I_COMPLETE_NEEDED: 0x00090313,
  SEC_I_COMPLETE_AND_CONTINUE: 0x00090314,
  SEC_E_LOGON_DENIED: 0x8009030c | 0,
};

/** The addon's `credentialUse` flag names (cpp/flags.cc); absent means SECPKG_CRED_BOTH. */
const CREDENTIAL_USE: Record<string, number> = {
  SECPKG_CRED_INBOUND: 1,
  SECPKG_CRED_OUTBOUND: 2,
  SECPKG_CRED_BOTH: 3,
};

type AddonFunction = (...args: unknown[]) => unknown;
type Input = Record<string, unknown>;

/** What one call passes in, read before it runs. */
interface Inputs {
  packageName?: string | undefined;
  credentialUse?: number | undefined;
  credential?: ReadHandle;
  context?: ReadHandle;
  /** ISC/ASC: the token passed in (`SecBufferDesc.buffers[0]`). */
  token?: unknown;
}

/** How one of the addon's functions maps onto an SSPI function. */
interface Mapping {
  /** The native function the addon calls: the `function` label and `createdBy`. */
  readonly native: string;
  readonly read: (args: unknown[]) => Inputs;
  /** The handle the call wrote, from its result. */
  readonly out?: (result: unknown) => ReadHandle;
}

const handleArg = (value: unknown): ReadHandle => (typeof value === 'string' && value !== '' ? value : value == null ? null : undefined);
const input = (args: unknown[]): Input => (typeof args[0] === 'object' && args[0] !== null ? (args[0] as Input) : {});
/** The first buffer of a `{ SecBufferDesc: { buffers: [ArrayBuffer] } }` input or result. */
const tokenIn = (value: unknown): unknown => ((value as { SecBufferDesc?: { buffers?: unknown[] } } | undefined)?.SecBufferDesc?.buffers ?? [])[0];
const resultField = (field: string) => (result: unknown): ReadHandle =>
  typeof result === 'object' && result !== null ? writtenHandle((result as Input)[field]) : undefined;

/** A handle string the addon wrote; all zeros is the `{0, 0}` it starts from, i.e. nothing written. */
function writtenHandle(value: unknown): ReadHandle {
  if (typeof value !== 'string' || value === '') return undefined;
  return /^0x0+\.0x0+$/i.test(value) ? undefined : value;
}

function credentialUse(value: unknown): number | undefined {
  if (value === undefined) return 3;
  if (typeof value === 'string') return CREDENTIAL_USE[value];
  return typeof value === 'number' ? value : undefined;
}

const MAPPINGS: Record<string, Mapping> = {
  AcquireCredentialsHandle: {
    native: 'AcquireCredentialsHandleW',
    read: (args) => {
      const i = input(args);
      return { packageName: typeof i.packageName === 'string' ? i.packageName : undefined, credentialUse: credentialUse(i.credentialUse) };
    },
    out: resultField('credential'),
  },
  InitializeSecurityContext: {
    native: 'InitializeSecurityContextW',
    read: (args) => {
      const i = input(args);
      // As the addon decides: a first call has no `contextHandle`, unless `isFirstCall` says otherwise.
      let first = !('contextHandle' in i);
      if (Object.hasOwn(i, 'isFirstCall')) first = Boolean(i.isFirstCall);
      return { credential: handleArg(i.credential), context: first ? null : handleArg(i.contextHandle), token: tokenIn(i) };
    },
    out: resultField('contextHandle'),
  },
  AcceptSecurityContext: {
    native: 'AcceptSecurityContext',
    read: (args) => {
      const i = input(args);
      return { credential: handleArg(i.credential), context: typeof i.contextHandle === 'string' ? handleArg(i.contextHandle) : null, token: tokenIn(i) };
    },
    out: resultField('contextHandle'),
  },
  DeleteSecurityContext: { native: 'DeleteSecurityContext', read: (args) => ({ context: handleArg(args[0]) }) },
  FreeCredentialsHandle: { native: 'FreeCredentialsHandle', read: (args) => ({ credential: handleArg(args[0]) }) },
  QueryContextAttributes: { native: 'QueryContextAttributesW', read: (args) => ({ context: handleArg(args[0]) }) },
  QuerySecurityContextToken: { native: 'QuerySecurityContextToken', read: (args) => ({ context: handleArg(args[0]) }) },
  ImpersonateSecurityContext: { native: 'ImpersonateSecurityContext', read: (args) => ({ context: handleArg(args[0]) }) },
  RevertSecurityContext: { native: 'RevertSecurityContext', read: (args) => ({ context: handleArg(args[0]) }) },
  QueryCredentialsAttributes: { native: 'QueryCredentialsAttributesW', read: (args) => ({ credential: handleArg(args[0]) }) },
  // The addon returns these packages' buffers itself: counted and timed only.
  EnumerateSecurityPackages: { native: 'EnumerateSecurityPackagesW', read: () => ({}) },
  QuerySecurityPackageInfo: {
    native: 'QuerySecurityPackageInfoW',
    read: (args) => ({ packageName: typeof args[0] === 'string' ? args[0] : undefined }),
  },
};

/** The SSPI_STATUS of a returned result: a name, `0x%08x`, or a decimal; SEC_E_OK when there is none. */
export function resultStatus(result: unknown): number {
  const value = typeof result === 'object' && result !== null ? (result as Input).SECURITY_STATUS : undefined;
  if (typeof value !== 'string') return SEC_E_OK;
  if (value in NAMED_STATUS) return NAMED_STATUS[value]!;
  if (/^0x[0-9a-f]{1,8}$/i.test(value)) return Number.parseInt(value.slice(2), 16) | 0;
  if (/^-?\d+$/.test(value)) return Number(value) | 0;
  return SEC_E_OK;
}

/**
 * The status in one of the addon's errors, `(error code: 0x8009030c) …`; undefined when it names none
 * (the addon refused its arguments before calling SSPI).
 */
export function thrownStatus(err: unknown): number | undefined {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  const m = /error code: 0x([0-9a-f]{1,8})/i.exec(message);
  return m ? Number.parseInt(m[1]!, 16) | 0 : undefined;
}

/** The error the addon itself throws for a status, for a call the guard stops before it reaches SSPI. */
function addonError(name: string, status: number): Error {
  const code = `(error code: 0x${(status >>> 0).toString(16).padStart(8, '0')}) ${statusName(status)}`;
  switch (name) {
    case 'DeleteSecurityContext':
      return new Error(`Cannot DeleteSecurityContext: secStatus: ${code}`);
    case 'FreeCredentialsHandle':
      return new Error(`FreeCredentialsHandle error = ${code}`);
    case 'AcceptSecurityContext':
      return new Error(`AcceptSecurityContext: SECURITY_STATUS incorrect (<0): ${code}`);
    case 'InitializeSecurityContext':
      return new Error(`Cannot InitializeSecurityContext: secStatus = ${code}`);
    default:
      return new Error(`${name}: secStatus = ${code}`);
  }
}

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

export class NodeExposeSspiHook {
  private readonly patcher = new Patcher('node-expose-sspi');
  private readonly patched = new WeakSet<object>();
  private readonly state = this.patcher.state;

  constructor(private readonly options: NodeExposeSspiHookOptions) {}

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
      this.patcher.replace(sspi, sspi, name, this.wrap(name, original, spec, mapping, provider), true);
    }
    debug(`node-expose-sspi instrumented (${originals.size} SSPI functions)`);
  }

  /** Undoes what `patchModule(exports)` did. */
  unpatchModule(exports: unknown): void {
    const sspi = sspiObjectOf(exports);
    if (!sspi) return;
    this.patcher.unpatch(sspi);
    this.patched.delete(sspi);
  }

  unpatchAll(): void {
    this.patcher.unpatchAll();
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
          registry.blocked({ ...verdict, site: stacks.always(wrapped) });
          registry.recordCall(fn.name, SEC_E_INVALID_HANDLE, 0);
        } else if (mayCreateHandle(fn, inputs.context)) {
          site = stacks.forCreation(fn.name, wrapped);
        } else if (isRelease(fn)) {
          site = stacks.forRelease(fn.name, wrapped);
        }
      } catch (err) {
        agentError('node-expose-sspi.before', err);
        inputs = undefined;
      }
      // A released handle never reaches SSPI: the caller gets the error the addon throws for SEC_E_INVALID_HANDLE.
      if (blocked) throw addonError(name, SEC_E_INVALID_HANDLE);
      const start = performance.now();
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
  try {
    const end = performance.now();
    const call: ObservedCall = {
      fn,
      provider,
      status,
      durationSeconds: (end - start) / 1000,
      // The registry applies the call later: its time is now.
      at: end,
      packageName: inputs.packageName,
      credentialUse: inputs.credentialUse,
      credential: inputs.credential,
      context: inputs.context,
      site,
      outHandle: result !== undefined && mapping.out ? mapping.out(result) : undefined,
      tokenVerdict: tokenVerdictOf(fn, inputs, status, result),
    };
    recordObservedCall(registry, call);
  } catch (err) {
    agentError('node-expose-sspi.after', err);
  }
}

/** Forced cleanup through the addon's own (unwrapped) Delete/Free, with the recorded handle string. */
/** ISC/ASC: the package the server's token shows (ISC's input, ASC's output), else the client's. */
function tokenVerdictOf(fn: SspiFunction, inputs: Inputs, status: number, result: unknown): TokenVerdict | undefined {
  if (status < 0 || (fn.role !== 'init-context' && fn.role !== 'accept-context')) return undefined;
  const output = tokenIn(result);
  return fn.role === 'init-context' ? jsTokenVerdict(inputs.token, output) : jsTokenVerdict(output, inputs.token);
}

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
