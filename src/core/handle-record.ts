/**
 * The registry's record of one handle, laid out for memory: a live handle costs a record for as long
 * as the app holds it, and a server may hold a million. What handles share (their labels, the
 * function that made them, where they came from) lives once per class of handles, and the rest in
 * one side slot that holds the least that answers for this handle (record-side.ts). Readers see the
 * plain `TrackedHandle` fields.
 */
import { halvesMatch, highOf, keyOf, lowOf, type KeyHigh } from './key-halves.js';
import { OwnSite, HandleDetails, ReleasedSide, type HandleClass, type LiveGroup, type RecordSide } from './record-side.js';
import type { NegotiatedPackage } from '../sspi/negotiation-tokens.js';
import type { AllocationSite, CallRecord, Direction, HandleKey, HandleKind, HandleReleaser, HandshakeState, StaleReason, TrackedHandle } from '../types.js';

const NS_PER_MS = 1e6;
const MS_PER_NS = 1e-6;
/** The base of a time's two halves: each below 2^31, a small integer in V8 however it is built. */
const TWO_31 = 2 ** 31;

/**
 * Eight fields, each a pointer or a small integer: at a million live handles, each field costs 8 MB,
 * and a double held in a field (a key, a time) or as a Map key another 16 MB, as a heap number.
 */
export class HandleRecord implements TrackedHandle {
  prev: HandleRecord | undefined = undefined;
  next: HandleRecord | undefined = undefined;
  /** Its class, site, details and how it ended (record-side.ts). */
  private side: RecordSide;
  /** The key's halves (see key-halves.ts). */
  private keyHigh: KeyHigh;
  private keyLow: number;

  /**
   * `createdAt` in nanoseconds, as two halves of 31 bits: small integers, not a double, for any time
   * a process reaches (whole milliseconds would outgrow a small integer after 24.9 days).
   */
  private readonly bornHigh: number;
  private readonly bornLow: number;

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
    const ns = Math.round(createdAt * NS_PER_MS);
    const high = Math.floor(ns / TWO_31);
    this.bornHigh = high + 0; // `+ 0`: no -0, which is no small integer
    // `| 0`: a difference of doubles is a heap number to V8 even when whole; it is below 2^31 here.
    this.bornLow = (ns - high * TWO_31) | 0;
  }

  /** `performance.now()` when it was made, to the nanosecond. */
  get createdAt(): number {
    return (this.bornHigh * TWO_31 + this.bornLow) * MS_PER_NS;
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
    if (side.released !== undefined) side.released.details = details;
    else this.side = details;
    return details;
  }

  /** Whether it was released (the store then keeps it, bounded, for the guard). */
  get isReleased(): boolean {
    return this.side.released !== undefined;
  }

  /** How it ended, once released. */
  get ended(): ReleasedSide | undefined {
    return this.side.released;
  }

  /** It was released by `by` at `at` (from `site`): what the store's ring keeps. */
  end(by: string, at: number, site: AllocationSite | undefined): ReleasedSide {
    const side = this.side;
    const ended = new ReleasedSide(side.cls, side.site, side.details, by, at, site);
    this.side = ended;
    return ended;
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
    return this.side.released?.by;
  }
  get releasedAt(): number | undefined {
    return this.side.released?.at;
  }
  get releaseSite(): AllocationSite | undefined {
    return this.side.released?.releaseSite;
  }
}
