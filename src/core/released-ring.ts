/**
 * The released handles the double-free guard remembers: the last RELEASED_MEMORY records of each
 * kind, oldest forgotten first. A released record stays in the registry's map under its value until
 * it is forgotten here or the provider issues the value again.
 */
import type { HandleRecord } from './handle-record.js';
import type { RecordMap } from './record-map.js';
import { perKind, type HandleKind } from '../types.js';

/** How many released handles are remembered for the double-free guard (oldest forgotten first). */
export const RELEASED_MEMORY = 10_000;

export class ReleasedRing {
  private readonly ring = perKind(() => new Array<HandleRecord | undefined>(RELEASED_MEMORY));
  private readonly next = perKind(() => 0);

  constructor(private readonly records: Record<HandleKind, RecordMap>) {}

  /** The record itself is kept: no allocation on the release path. */
  add(handle: HandleRecord): void {
    const { kind } = handle;
    const ring = this.ring[kind];
    const slot = this.next[kind];
    const forgotten = ring[slot];
    // Forget the oldest released record, unless its value was re-issued since (then it is gone
    // already, and with providers that re-issue freed values at once, that is the common case).
    // (`displaced` is set whenever the map's entry for a released record's value is replaced or
    // removed, so an undisplaced one is still there: no lookup of a cold entry to make sure.)
    if (forgotten && forgotten.released && !forgotten.released.displaced) this.records[kind].forget(forgotten);
    ring[slot] = handle;
    this.next[kind] = (slot + 1) % RELEASED_MEMORY;
  }
}
