/**
 * One kind's records by handle value, for the store. A record is found under its key's low 32 bits
 * (`key-halves.ts`), a small integer: a Map keyed by the packed key itself boxed every key as a
 * 16-byte double, and hashed it on every lookup. Two live values that share their low bits are rare
 * (a provider's handles differ in their low word); the second one waits in `clashes`, under its whole
 * key, which is only asked when it holds anything.
 *
 * SSPI calls on a handle come in runs on the same value — an acquire's open, then the release of
 * what it made; a provider re-issuing the value it just freed — so the last value looked up or
 * written is remembered with its record, and such a run costs one Map write.
 */
import type { HandleRecord } from './handle-record.js';
import { slotOf } from './key-halves.js';
import type { HandleKey } from '../types.js';

export class RecordMap {
  private readonly byLow = new Map<number, HandleRecord>();
  private readonly clashes = new Map<HandleKey, HandleRecord>();
  /**
   * The last value asked for or written, what the map holds under it (undefined: nothing), and what
   * `byLow` holds at its slot: a write right after a lookup of the same value (an open after the
   * guard's question, a re-issued value) then needs no second lookup.
   */
  private lastKey: HandleKey | undefined = undefined;
  private lastRecord: HandleRecord | undefined = undefined;
  private lastAtSlot: HandleRecord | undefined = undefined;

  /** `displaced`: told of each released record the map stops holding, except through `forget`. */
  constructor(private readonly displaced: (record: HandleRecord) => void) {}

  /** The record under `key`, live or released. */
  get(key: HandleKey): HandleRecord | undefined {
    if (key !== this.lastKey) this.look(key);
    return this.lastRecord;
  }

  /** Puts `record` under `key`; a released record it replaces is told displaced. */
  set(key: HandleKey, record: HandleRecord): void {
    const previous = this.get(key);
    if (previous?.isReleased) this.displaced(previous);
    // Where the value's record is, or a free slot; a clash stays in `clashes` even once its slot frees up.
    if (previous === undefined ? this.lastAtSlot === undefined : previous === this.lastAtSlot) {
      this.byLow.set(slotOf(key), record);
      this.lastAtSlot = record;
    } else {
      this.clashes.set(key, record);
    }
    this.lastRecord = record;
  }

  /** Removes a released record still under its value (the released ring forgets it). */
  forget(record: HandleRecord): void {
    record.details!.ringSlot = -1;
    this.remove(record.key);
  }

  /** Removes what is under `key` (the caller checked it is the record it means to drop). */
  delete(key: HandleKey): void {
    const previous = this.get(key);
    if (previous?.isReleased) this.displaced(previous);
    this.remove(key);
  }

  private look(key: HandleKey): void {
    const atSlot = this.byLow.get(slotOf(key));
    this.lastKey = key;
    this.lastAtSlot = atSlot;
    if (atSlot !== undefined && atSlot.hasKey(key)) this.lastRecord = atSlot;
    else this.lastRecord = this.clashes.size === 0 ? undefined : this.clashes.get(key);
  }

  private remove(key: HandleKey): void {
    const previous = this.get(key);
    if (previous === undefined) return;
    if (previous === this.lastAtSlot) {
      this.byLow.delete(slotOf(key));
      this.lastAtSlot = undefined;
    } else {
      this.clashes.delete(key);
    }
    this.lastRecord = undefined;
  }
}
