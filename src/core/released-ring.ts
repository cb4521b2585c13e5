/**
 * The released handles the double-free guard remembers: the last RELEASED_MEMORY records of each
 * kind, oldest forgotten first. A released record stays in the registry's map under its value until
 * it is forgotten here or the provider issues the value again; then its slot here is emptied, so
 * that forgetting the oldest touches no record whose value came back (with providers that re-issue
 * freed values at once, the common case, and a record released 10,000 releases ago is cold memory).
 */
import type { HandleRecord } from './handle-record.js';
import type { ReleasedSide } from './record-side.js';
import type { RecordMap } from './record-map.js';
import { perKind, type HandleKind } from '../types.js';

/** How many released handles are remembered for the double-free guard (oldest forgotten first). */
export const RELEASED_MEMORY = 10_000;

export class ReleasedRing {
  /** A kind's ring is made at its first release: 10,000 slots each, which every start would fill otherwise. */
  private readonly ring = perKind((): (HandleRecord | undefined)[] | undefined => undefined);
  private readonly next = perKind(() => 0);

  constructor(private readonly records: Record<HandleKind, RecordMap>) {}

  /** The record itself is kept; `ended`: how it ended, where its slot is written. */
  add(handle: HandleRecord, ended: ReleasedSide): void {
    const { kind } = handle;
    const ring = (this.ring[kind] ??= new Array<HandleRecord | undefined>(RELEASED_MEMORY).fill(undefined));
    const slot = this.next[kind];
    const forgotten = ring[slot];
    if (forgotten !== undefined) this.records[kind].forget(forgotten);
    ring[slot] = handle;
    ended.ringSlot = slot;
    this.next[kind] = (slot + 1) % RELEASED_MEMORY;
  }

  /** The map no longer holds `record` under its value (re-issued, or its live record came back). */
  drop(record: HandleRecord): void {
    const ended = record.ended!;
    const slot = ended.ringSlot;
    const ring = this.ring[record.kind];
    if (slot >= 0 && ring?.[slot] === record) ring[slot] = undefined;
    ended.ringSlot = -1;
  }
}
