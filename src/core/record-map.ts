/**
 * One kind's records by handle value, for the store. A Number key (`handle-keys.ts` packs the pairs
 * providers hand out) is found under its low 32 bits, a small integer: a Map keyed by the Number
 * itself holds it as a 16-byte heap double, since the record keeps its key in halves (key-halves.ts)
 * and has none to share. Other keys (node-expose-sspi's strings, the BigInt of a pair that does not
 * pack), and a Number whose low bits another live value holds, are found under the whole key in
 * `others`, which is asked only when it holds anything or the key is not a Number.
 *
 * SSPI calls on a handle come in runs on the same value — an acquire's open, then the release of
 * what it made; a provider re-issuing the value it just freed — so the last value looked up or
 * written is remembered with its record, and such a run costs one Map write.
 */
import type { HandleRecord } from './handle-record.js';
import type { HandleKey } from '../types.js';

/** A Number key's slot: its low 32 bits, signed (`| 0` of any Number is a small integer). */
const slotOf = (key: number): number => key | 0;

export class RecordMap {
  private readonly byLow = new Map<number, HandleRecord>();
  private readonly others = new Map<HandleKey, HandleRecord>();
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
    // Where the value's record is, or a free slot; a clash stays in `others` even once its slot frees up.
    if (typeof key === 'number' && (previous === undefined ? this.lastAtSlot === undefined : previous === this.lastAtSlot)) {
      this.byLow.set(slotOf(key), record);
      this.lastAtSlot = record;
    } else {
      this.others.set(key, record);
    }
    this.lastRecord = record;
  }

  /** Removes a released record still under its value (the released ring forgets it). */
  forget(record: HandleRecord): void {
    record.ended!.ringSlot = -1;
    this.remove(record.key);
  }

  /** Removes what is under `key` (the caller checked it is the record it means to drop). */
  delete(key: HandleKey): void {
    const previous = this.get(key);
    if (previous?.isReleased) this.displaced(previous);
    this.remove(key);
  }

  private look(key: HandleKey): void {
    this.lastKey = key;
    if (typeof key !== 'number') {
      this.lastAtSlot = undefined;
      this.lastRecord = this.others.get(key);
      return;
    }
    const atSlot = this.byLow.get(slotOf(key));
    this.lastAtSlot = atSlot;
    if (atSlot !== undefined && atSlot.hasKey(key)) this.lastRecord = atSlot;
    else this.lastRecord = this.others.size === 0 ? undefined : this.others.get(key);
  }

  private remove(key: HandleKey): void {
    const previous = this.get(key);
    if (previous === undefined) return;
    if (typeof key === 'number' && previous === this.lastAtSlot) {
      this.byLow.delete(slotOf(key));
      this.lastAtSlot = undefined;
    } else {
      this.others.delete(key);
    }
    this.lastRecord = undefined;
  }
}
