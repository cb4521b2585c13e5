/**
 * One row of the call log, read as the `ObservedCall` the lifecycle rules take: a cursor the log
 * moves from row to row as it applies them, so that applying a row allocates nothing. Valid only
 * while its row is applied; a rule keeps the values it needs, never the cursor.
 */
import type { SspiFunction } from '../../sspi/functions.js';
import type { TokenVerdict } from '../../sspi/negotiation-tokens.js';
import type { AllocationSite, ReadHandle } from '../../types.js';
import type { AllocatedBuffer, ObservedCall, Provider } from '../observed-call.js';

/** The log's columns of handle keys. */
export type KeyColumnName = 'credential' | 'context' | 'buffer' | 'out' | 'failedOut';

/** How the cursor reads a row's columns. */
export interface LogRows {
  fnAt(row: number): SspiFunction;
  providerAt(row: number): Provider;
  statusAt(row: number): number;
  durationAt(row: number): number;
  atAt(row: number): number;
  issuedAtAt(row: number): number | undefined;
  packageAt(row: number): string | undefined;
  useAt(row: number): number | undefined;
  verdictAt(row: number): TokenVerdict | undefined;
  keyAt(column: KeyColumnName, row: number): ReadHandle;
  holderAt(row: number): object | undefined;
  siteAt(row: number): AllocationSite | undefined;
  buffersAt(row: number): readonly AllocatedBuffer[] | undefined;
}

export class LoggedCall implements ObservedCall {
  row = 0;
  constructor(private readonly log: LogRows) {}

  get fn(): SspiFunction {
    return this.log.fnAt(this.row);
  }
  get provider(): Provider {
    return this.log.providerAt(this.row);
  }
  get status(): number {
    return this.log.statusAt(this.row);
  }
  get durationSeconds(): number {
    return this.log.durationAt(this.row);
  }
  get at(): number {
    return this.log.atAt(this.row);
  }
  get issuedAt(): number | undefined {
    return this.log.issuedAtAt(this.row);
  }
  get packageName(): string | undefined {
    return this.log.packageAt(this.row);
  }
  get credentialUse(): number | undefined {
    return this.log.useAt(this.row);
  }
  get credential(): ReadHandle {
    return this.log.keyAt('credential', this.row);
  }
  get context(): ReadHandle {
    return this.log.keyAt('context', this.row);
  }
  get buffer(): ReadHandle {
    return this.log.keyAt('buffer', this.row);
  }
  get outHandle(): ReadHandle {
    return this.log.keyAt('out', this.row);
  }
  get failedOutHandle(): ReadHandle {
    return this.log.keyAt('failedOut', this.row);
  }
  get outHolder(): object | undefined {
    return this.log.holderAt(this.row);
  }
  get outBuffers(): readonly AllocatedBuffer[] | undefined {
    return this.log.buffersAt(this.row);
  }
  get tokenVerdict(): TokenVerdict | undefined {
    return this.log.verdictAt(this.row);
  }
  get site(): AllocationSite | undefined {
    return this.log.siteAt(this.row);
  }
}
