/** The facts of one call through a koffi-declared SSPI function, as the wrapper reads them. */
import type { AllocatedBuffer, ObservedCall, Provider } from '../core/observed-call.js';
import type { SspiFunction } from '../sspi/functions.js';
import type { TokenVerdict } from '../sspi/negotiation-tokens.js';
import { SEC_E_OK } from '../sspi/status.js';
import type { AllocationSite, CallerFacts } from '../types.js';
import type { ReadHandle } from './handle-shapes.js';

/**
 * One call's facts: the inputs read before the native call runs (it may overwrite or free them),
 * then what it returned and wrote. One object per call, filled in two steps, handed to the
 * lifecycle rules as the `ObservedCall`.
 */
export class CallFacts implements ObservedCall {
  status = SEC_E_OK;
  durationSeconds = 0;
  at = 0;
  /** Set for an `.async` call: when it was issued, and its caller then. */
  issuedAt: number | undefined = undefined;
  issuedCaller: CallerFacts | undefined = undefined;
  site: AllocationSite | undefined = undefined;
  outHandle: ReadHandle = undefined;
  outHolder: object | undefined = undefined;
  outBuffers: AllocatedBuffer[] | undefined = undefined;
  /** A first ISC/ASC's out-param was JS-owned and read before the call (its value: `outBefore`). */
  outRead = false;
  outBefore: ReadHandle = undefined;
  failedOutHandle: ReadHandle = undefined;
  tokenVerdict: TokenVerdict | undefined = undefined;
  /** Set when the guard stopped the call: it must not reach the provider. */
  blocked = false;
  /** Whether the call creates or releases a handle: the stack policy is asked for its stack. */
  stackFor: 'creation' | 'release' | undefined = undefined;

  constructor(
    readonly fn: SspiFunction,
    readonly provider: Provider,
    readonly credential: ReadHandle,
    readonly context: ReadHandle,
    readonly buffer: ReadHandle,
    readonly packageName: string | undefined,
    readonly credentialUse: number | undefined,
  ) {}
}
