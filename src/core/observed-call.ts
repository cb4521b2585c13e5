/**
 * What a hook tells the lifecycle rules of one SSPI call: the facts read from its arguments before
 * and after the native call. Any binding (koffi, node-expose-sspi) produces them; the rules
 * (lifecycle.ts) and the call details a listener may ask for (call-details.ts) read them.
 */
import type { SspiFunction } from '../sspi/functions.js';
import type { TokenVerdict } from '../sspi/negotiation-tokens.js';
import type { AllocationSite, CallerFacts, HandleKey, HandleKind, HandleReleaser, ReadHandle } from '../types.js';

/** A buffer SSPI allocated during the call, and the JS value that holds its pointer. */
export interface AllocatedBuffer {
  readonly key: HandleKey;
  readonly holder: object | undefined;
}

/** What releases the handles one provider library makes, and stands for that library. */
export interface Provider {
  readonly library: string;
  readonly releasers: Partial<Record<HandleKind, HandleReleaser>>;
}

export interface ObservedCall {
  readonly fn: SspiFunction;
  readonly provider: Provider;
  /** SECURITY_STATUS, signed. */
  readonly status: number;
  readonly durationSeconds: number;
  /** `performance.now()` when the call returned: the time of whatever it created or released. */
  readonly at?: number;
  /**
   * For a call run on koffi's worker thread (`.async`): `performance.now()` when it was issued. Its
   * facts arrive with its callback, after those of calls the app made meanwhile.
   */
  readonly issuedAt?: number;
  /**
   * For an `.async` call: its caller, captured when it was issued (`registry.captureCaller`): its
   * callback runs in no request's context.
   */
  readonly issuedCaller?: CallerFacts | undefined;
  /** Read before the call: `pszPackage`, `fCredentialUse`, the existing handles passed in. */
  readonly packageName?: string | undefined;
  readonly credentialUse?: number | undefined;
  readonly credential?: ReadHandle;
  readonly context?: ReadHandle;
  /** FreeContextBuffer's argument. */
  readonly buffer?: ReadHandle;
  /** Read after the call: the handle it wrote, the JS object holding it, and the buffers SSPI allocated. */
  readonly outHandle?: ReadHandle;
  readonly outHolder?: object | undefined;
  readonly outBuffers?: readonly AllocatedBuffer[];
  /**
   * A handle value a failed ISC/ASC wrote into a JS-owned out-param all the same (WinPR does):
   * nothing the agent tracks, but no longer a value it may call released.
   */
  readonly failedOutHandle?: ReadHandle;
  /**
   * A successful ISC/ASC: the package its token shows (the server's token where the call has one,
   * else the client's), for a Negotiate context's negotiated package.
   */
  readonly tokenVerdict?: TokenVerdict | undefined;
  /** Where the call came from: the allocation site of what it creates, or the release site. */
  readonly site?: AllocationSite | undefined;
}

/** The inputs the guard looks at, read before the call. */
export interface CallInputs {
  readonly credential?: ReadHandle;
  readonly context?: ReadHandle;
  readonly buffer?: ReadHandle;
}

/** The handle a release of `kind` passes: its credential, context or buffer argument. */
export function releasedKey(kind: HandleKind, inputs: CallInputs): ReadHandle {
  return kind === 'credential' ? inputs.credential : kind === 'context' ? inputs.context : inputs.buffer;
}

/** The caller's facts of a call that returned at `at`, when its context was captured. */
export function callerAt(context: unknown, at: number): CallerFacts | undefined {
  return context === undefined ? undefined : { context, at };
}
