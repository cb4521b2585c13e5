/**
 * The registry's record of one handle, laid out for memory: a live handle costs a record per handle
 * for as long as the app holds it, and a server may hold a million. What handles share (their
 * labels, the function that made them, where they came from) lives once per class of handles, and
 * what only some handles need (a context's history, a credential's contexts, stale, collected) in
 * a side object made on first use. Readers see the plain `TrackedHandle` fields.
 */
import { halvesMatch, highOf, keyOf, lowOf, type KeyHigh } from './key-halves.js';
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
 * What handles of one class share: their metric labels' group, the function that made them, the
 * provider they came from, and a site they all have (none, or the mark of a stack the budget turned
 * down), where they have no site of their own. One object per combination, a handful in a process:
 * a field each costs every live record 8 bytes, the class 8 bytes for all of them.
 */
/**
 * What a record's one side slot holds, and what it answers: the handle's class, its creation site,
 * its details. For most handles that is their class itself; for a handle with a stack of its own,
 * an `OwnSite` beside the class; once it has details, those, which hold both. One slot for the three
 * saves every record 8 bytes; each answers with a field load (an `instanceof` on the slot cost more
 * than the rest of the read).
 */
interface RecordSide {
  readonly cls: HandleClass;
  readonly site: AllocationSite | undefined;
  readonly details: HandleDetails | undefined;
}

export class HandleClass implements RecordSide {
  readonly cls: HandleClass = this;
  readonly details: undefined = undefined;

  constructor(
    readonly group: LiveGroup,
    readonly createdBy: string,
    readonly library: string,
    readonly releaser: HandleReleaser | undefined,
    readonly provider: object | undefined,
    readonly site: AllocationSite | undefined,
  ) {}
}

/** A handle's own creation site, beside its class: 40 bytes, where details would be 150. */
class OwnSite implements RecordSide {
  readonly details: undefined = undefined;

  constructor(
    readonly cls: HandleClass,
    readonly site: AllocationSite | undefined,
  ) {}
}

/**
 * What only some handles need, made on first write: a context's history and handshake, a
 * credential's live contexts, stale and collected marks, and how the handle ended (every handle
 * ends, and a record is remembered released only while the guard's ring holds it).
 */
export class HandleDetails implements RecordSide {
  readonly details: HandleDetails = this;
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
  /** Set when it is released. */
  releasedBy: string | undefined = undefined;
  releasedAt: number | undefined = undefined;
  releaseSite: AllocationSite | undefined = undefined;
  /** Its slot in the released ring while the store's map holds it under its value; -1 otherwise. */
  ringSlot = -1;

  /** The handle's class and creation site: once details exist, the record's side slot holds them. */
  constructor(
    readonly cls: HandleClass,
    readonly site: AllocationSite | undefined,
  ) {}
}

const NS_PER_MS = 1e6;
const MS_PER_NS = 1e-6;

/**
 * Eight fields, each a pointer or a small integer: at a million live handles, each field costs 8 MB,
 * and a double held in a field (a key, a time) or as a Map key another 16 MB, as a heap number.
 */
export class HandleRecord implements TrackedHandle {
  prev: HandleRecord | undefined = undefined;
  next: HandleRecord | undefined = undefined;
  /** Its class, site and details (see RecordSide). */
  private side: RecordSide;
  /** The key's halves (see key-halves.ts). */
  private keyHigh: KeyHigh;
  private keyLow: number;

  /** `createdAt` in whole milliseconds and the nanoseconds past them: two small integers, not a double. */
  private readonly bornMs: number;
  private readonly bornNs: number;

  constructor(
    readonly id: number,
    key: HandleKey,
    cls: HandleClass,
    createdAt: number,
    site: AllocationSite | undefined,
  ) {
    this.side = site === cls.site ? cls : new OwnSite(cls, site);
    this.keyHigh = highOf(key);
    this.keyLow = lowOf(key);
    const ms = Math.floor(createdAt);
    const ns = Math.round((createdAt - ms) * NS_PER_MS);
    // Rounded up to the next millisecond: carried, so that the nanoseconds stay below a million.
    this.bornMs = ns === NS_PER_MS ? ms + 1 : ms;
    this.bornNs = ns === NS_PER_MS ? 0 : ns;
  }

  /** `performance.now()` when it was made, to the nanosecond. */
  get createdAt(): number {
    return this.bornMs + this.bornNs * MS_PER_NS;
  }

  get key(): HandleKey {
    return keyOf(this.keyHigh, this.keyLow);
  }

  /** The record answers to `key` from now on (the store's rekey). */
  setKey(key: HandleKey): void {
    this.keyHigh = highOf(key);
    this.keyLow = lowOf(key);
  }

  /** Whether this is the record of `key` (no key built). */
  hasKey(key: HandleKey): boolean {
    return halvesMatch(this.keyHigh, this.keyLow, key);
  }

  get details(): HandleDetails | undefined {
    return this.side.details;
  }

  /** The details, made when a field of them is first written. */
  more(): HandleDetails {
    const side = this.side;
    if (side.details !== undefined) return side.details;
    const details = new HandleDetails(side.cls, side.site);
    this.side = details;
    return details;
  }

  /** Whether it was released (the store then keeps it, bounded, for the guard). */
  get isReleased(): boolean {
    const details = this.side.details;
    return details !== undefined && details.releasedBy !== undefined;
  }

  get site(): AllocationSite | undefined {
    return this.side.site;
  }

  get cls(): HandleClass {
    return this.side.cls;
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
    return this.details?.releasedBy;
  }
  get releasedAt(): number | undefined {
    return this.details?.releasedAt;
  }
  get releaseSite(): AllocationSite | undefined {
    return this.details?.releaseSite;
  }
}
