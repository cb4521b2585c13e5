/**
 * One row of the call log, read as the `ObservedCall` the lifecycle rules take: a cursor the log
 * loads row by row as it applies them, so that applying a row allocates nothing. Plain fields, loaded
 * once per row: the rules read a row's facts some twenty-five times, and getters reading the columns
 * were called out of line each time (the rules are too big for V8 to inline them all). Valid only
 * while its row is applied; a rule keeps the values it needs, never the cursor.
 */
import type { SspiFunction } from '../../sspi/functions.js';
import type { TokenVerdict } from '../../sspi/negotiation-tokens.js';
import type { AllocationSite, ReadHandle } from '../../types.js';
import type { AllocatedBuffer, ObservedCall, Provider } from '../observed-call.js';

export class LoggedCall implements ObservedCall {
  fn!: SspiFunction;
  provider!: Provider;
  status = 0;
  durationSeconds = 0;
  at = 0;
  issuedAt: number | undefined = undefined;
  packageName: string | undefined = undefined;
  credentialUse: number | undefined = undefined;
  credential: ReadHandle = undefined;
  context: ReadHandle = undefined;
  buffer: ReadHandle = undefined;
  outHandle: ReadHandle = undefined;
  failedOutHandle: ReadHandle = undefined;
  outHolder: object | undefined = undefined;
  outBuffers: readonly AllocatedBuffer[] | undefined = undefined;
  tokenVerdict: TokenVerdict | undefined = undefined;
  site: AllocationSite | undefined = undefined;

  /** The batch is applied: the objects the last row held are let go (a holder only the app keeps can be collected). */
  forget(): void {
    this.outHolder = undefined;
    this.outBuffers = undefined;
    this.site = undefined;
  }
}
