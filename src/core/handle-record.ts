/**
 * The registry's record of one handle, laid out for memory: a live handle costs a record per handle
 * for as long as the app holds it, and a server may hold a million. What handles share (their
 * labels, the function that made them, where they came from) lives once per class of handles, and
 * what only some handles need (a context's history, a credential's contexts, stale, collected) in
 * a side object made on first use. Readers see the plain `TrackedHandle` fields.
 */
import type { NegotiatedPackage } from '../sspi/negotiation-tokens.js';
import type {
  AllocationSite,
  CallRecord,
  Direction,
  HandleKey,
  HandleKind,
  HandleReleaser,
  HandshakeState,
  StaleReason,
  TrackedHandle,
} from '../types.js';

/** Live handles that share every metric label: what a gauge series counts, and what its handles point to. */
export interface LiveGroup {
  readonly kind: HandleKind;
  readonly package: string;
  readonly direction: Direction;
  count: number;
}

/**
 * What handles of one class share: their metric labels' group, the function that made them, and the
 * provider they came from. One object per combination, a handful in a process: a field each costs
 * every live record 8 bytes, a class pointer 8 bytes for all of them.
 */
export interface HandleClass {
  readonly group: LiveGroup;
  readonly createdBy: string;
  readonly library: string;
  readonly releaser: HandleReleaser | undefined;
  readonly provider: object | undefined;
}

/** What only some handles need, made on first write. */
export class HandleDetails {
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
}

/** How a handle ended, set when it is released. */
export interface ReleaseFacts {
  readonly by: string;
  readonly at: number;
  readonly site: AllocationSite | undefined;
  /**
   * Its slot in the released ring while the store's map holds it under its value; -1 once the value
   * was re-issued or the record forgotten.
   */
  slot: number;
}

export class HandleRecord implements TrackedHandle {
  prev: HandleRecord | undefined = undefined;
  next: HandleRecord | undefined = undefined;
  details: HandleDetails | undefined = undefined;
  /**
   * Beside `details` rather than in it: every handle is released, most need no details, and the
   * store asks whether a record is released on every lookup.
   */
  released: ReleaseFacts | undefined = undefined;

  constructor(
    readonly id: number,
    public key: HandleKey,
    readonly cls: HandleClass,
    readonly createdAt: number,
    readonly site: AllocationSite | undefined,
  ) {}

  /** The side object, made when a field of it is first written. */
  more(): HandleDetails {
    return (this.details ??= new HandleDetails());
  }

  get group(): LiveGroup {
    return this.cls.group;
  }
  get kind(): HandleKind {
    return this.cls.group.kind;
  }
  get package(): string {
    return this.cls.group.package;
  }
  get direction(): Direction {
    return this.cls.group.direction;
  }
  get createdBy(): string {
    return this.cls.createdBy;
  }
  get library(): string {
    return this.cls.library;
  }
  get releaser(): HandleReleaser | undefined {
    return this.cls.releaser;
  }
  get provider(): object | undefined {
    return this.cls.provider;
  }
  get credential(): TrackedHandle | undefined {
    return this.details?.credential;
  }
  get history(): CallRecord[] | undefined {
    return this.details?.history;
  }
  get handshake(): HandshakeState | undefined {
    return this.details?.handshake;
  }
  get negotiated(): NegotiatedPackage | undefined {
    // A SPNEGO proposal is not what ran: the server may still pick another package.
    return this.details?.negotiationSettled ? this.details.negotiated : undefined;
  }
  get liveContexts(): number {
    return this.details?.liveContexts ?? 0;
  }
  get stale(): StaleReason | undefined {
    return this.details?.stale;
  }
  get staleAt(): number | undefined {
    return this.details?.staleAt;
  }
  get collected(): boolean {
    return this.details?.collected ?? false;
  }
  get releasedBy(): string | undefined {
    return this.released?.by;
  }
  get releasedAt(): number | undefined {
    return this.released?.at;
  }
  get releaseSite(): AllocationSite | undefined {
    return this.released?.site;
  }
}
