/** The facts of one call through a wrapped SSPI function (koffi's, node-expose-sspi's), as its hook reads them. */
import type { AllocatedBuffer, ObservedCall, Provider } from '../core/observed-call.js';
import type { SspiFunction } from '../sspi/functions.js';
import type { TokenVerdict } from '../sspi/negotiation-tokens.js';
import { SEC_E_OK } from '../sspi/status.js';
import type { AllocationSite, CallerFacts } from '../types.js';
import type { ReadHandle } from './handle-shapes.js';

/**
 * One call's facts: the inputs read before the native call runs (it may overwrite or free them),
 * then what it returned and wrote, handed to the lifecycle rules as the `ObservedCall`, which copy
 * them into the call log. So one object serves every synchronous call of a wrapped function
 * (`begin` resets it); an `.async` call, whose facts wait for its callback, has its own.
 */
export class CallFacts implements ObservedCall {
  fn!: SspiFunction;
  provider!: Provider;
  credential: ReadHandle = undefined;
  context: ReadHandle = undefined;
  buffer: ReadHandle = undefined;
  packageName: string | undefined = undefined;
  credentialUse: number | undefined = undefined;
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
  /** Between `begin` and the end of the call: a call made meanwhile needs an object of its own. */
  busy = false;

  /** A new call's inputs; everything else back to its initial value. */
  begin(
    fn: SspiFunction,
    provider: Provider,
    credential: ReadHandle,
    context: ReadHandle,
    buffer: ReadHandle,
    packageName: string | undefined,
    credentialUse: number | undefined,
  ): this {
    this.fn = fn;
    this.provider = provider;
    this.credential = credential;
    this.context = context;
    this.buffer = buffer;
    this.packageName = packageName;
    this.credentialUse = credentialUse;
    this.status = SEC_E_OK;
    this.durationSeconds = 0;
    this.at = 0;
    this.issuedAt = undefined;
    this.issuedCaller = undefined;
    this.site = undefined;
    this.outHandle = undefined;
    this.outHolder = undefined;
    this.outBuffers = undefined;
    this.outRead = false;
    this.outBefore = undefined;
    this.failedOutHandle = undefined;
    this.tokenVerdict = undefined;
    this.blocked = false;
    this.stackFor = undefined;
    this.busy = true;
    return this;
  }

  /**
   * The call is over (its facts are in the call log): the objects it held are let go, so that a
   * handle's JS holder kept by no one else can be collected (the GC detector's leak).
   */
  end(): void {
    this.busy = false;
    this.site = undefined;
    this.outHolder = undefined;
    this.outBuffers = undefined;
    this.issuedCaller = undefined;
  }
}
