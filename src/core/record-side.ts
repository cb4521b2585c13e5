/**
 * What a handle's record keeps beside itself, in one slot (`HandleRecord`'s side): the handle's
 * class, its creation site, its details, and how it ended. Most live handles need their class only,
 * so the slot holds the smallest object that answers for the handle, and each answers every question
 * with a field load (an `instanceof` on the slot cost more than the rest of the read):
 * - the class itself: a handle with no stack of its own (none taken, or the class's shared mark);
 * - `OwnSite`: a handle with a stack of its own, beside its class;
 * - `HandleDetails`: a handle with details (a context's history, a stale mark, ...), which hold the rest;
 * - `ReleasedSide`: a released handle, which the store keeps (bounded) for the guard.
 */
import type { NegotiatedPackage } from '../sspi/negotiation-tokens.js';
import type { AllocationSite, CallRecord, Direction, HandleKind, HandleReleaser, HandshakeState, StaleReason, TrackedHandle } from '../types.js';

/** Live handles that share every metric label: what a gauge series counts, and what its handles point to. */
export interface LiveGroup {
  readonly kind: HandleKind;
  readonly package: string;
  readonly direction: Direction;
  count: number;
}

export interface RecordSide {
  readonly cls: HandleClass;
  readonly site: AllocationSite | undefined;
  readonly details: HandleDetails | undefined;
  readonly released: ReleasedSide | undefined;
}

/**
 * What handles of one class share: their metric labels' group, the function that made them, the
 * provider they came from, and a site they all have (none, or the mark of a stack the budget turned
 * down). One object per combination, a handful in a process: a field each costs every live record
 * 8 bytes, the class 8 bytes for all of them.
 */
export class HandleClass implements RecordSide {
  readonly cls: HandleClass = this;
  readonly details: undefined = undefined;
  readonly released: undefined = undefined;

  constructor(
    readonly group: LiveGroup,
    readonly createdBy: string,
    readonly library: string,
    readonly releaser: HandleReleaser | undefined,
    readonly provider: object | undefined,
    readonly site: AllocationSite | undefined,
  ) {}
}

/** A handle's own creation site beside its class: 56 bytes, where its details would be about 140. */
export class OwnSite implements RecordSide {
  readonly details: undefined = undefined;
  readonly released: undefined = undefined;

  constructor(
    readonly cls: HandleClass,
    readonly site: AllocationSite | undefined,
  ) {}
}

/** What only some live handles need, made on first write. */
export class HandleDetails implements RecordSide {
  readonly details: HandleDetails = this;
  readonly released: undefined = undefined;
  credential: TrackedHandle | undefined = undefined;
  history: CallRecord[] | undefined = undefined;
  handshake: HandshakeState | undefined = undefined;
  /** A Negotiate context's package, as its tokens showed it, and whether that is final. */
  negotiated: NegotiatedPackage | undefined = undefined;
  negotiationSettled = false;
  /** A credential's live contexts: a count (the contexts themselves are found in the live list when needed). */
  liveContexts = 0;
  /** A context counted in its credential's `liveContexts`. */
  counted = false;
  stale: StaleReason | undefined = undefined;
  staleAt: number | undefined = undefined;
  collected = false;

  constructor(
    readonly cls: HandleClass,
    readonly site: AllocationSite | undefined,
  ) {}
}

/** How a released handle ended, beside what it had; its details may still be written (a late mark). */
export class ReleasedSide implements RecordSide {
  readonly released: ReleasedSide = this;
  /** Its slot in the released ring while the store's map holds it under its value; -1 otherwise. */
  ringSlot = -1;

  constructor(
    readonly cls: HandleClass,
    readonly site: AllocationSite | undefined,
    public details: HandleDetails | undefined,
    readonly by: string,
    readonly at: number,
    readonly releaseSite: AllocationSite | undefined,
  ) {}
}
