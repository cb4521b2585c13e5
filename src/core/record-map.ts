/**
 * One kind's records by handle value, for the store. SSPI calls on a handle come in runs on the same
 * value — an acquire's open, then the release of what it made; a provider re-issuing the value it
 * just freed — and each Map operation on a BigInt key hashes it in a call out of the JIT's code (and,
 * between two native calls that evicted the agent's data, touches a cold hash table). The last value
 * looked up or written is remembered with its record, so that such a run costs one Map write.
 */
import type { HandleRecord } from './handle-record.js';
import type { HandleKey } from '../types.js';

export class RecordMap {
  private readonly map = new Map<HandleKey, HandleRecord>();
  /** The last value asked for or written, and what the map holds under it (undefined: nothing). */
  private lastKey: HandleKey | undefined = undefined;
  private lastRecord: HandleRecord | undefined = undefined;

  /** The record under `key`, live or released. */
  get(key: HandleKey): HandleRecord | undefined {
    if (key === this.lastKey) return this.lastRecord;
    const record = this.map.get(key);
    this.lastKey = key;
    this.lastRecord = record;
    return record;
  }

  /** `displaced`: told of each released record the map stops holding, except through `forget`. */
  constructor(private readonly displaced: (record: HandleRecord) => void) {}

  /** Puts `record` under `key`; a released record it replaces is told displaced. */
  set(key: HandleKey, record: HandleRecord): void {
    const previous = this.get(key);
    if (previous?.released) this.displaced(previous);
    this.map.set(key, record);
    this.lastRecord = record;
  }

  /** Removes a released record still under its value (the released ring forgets it): one Map operation. */
  forget(record: HandleRecord): void {
    record.released!.slot = -1;
    this.map.delete(record.key);
    if (this.lastKey === record.key) this.lastRecord = undefined;
  }

  /** Removes what is under `key` (the caller checked it is the record it means to drop). */
  delete(key: HandleKey): void {
    const previous = this.get(key);
    if (previous?.released) this.displaced(previous);
    this.map.delete(key);
    this.lastRecord = undefined;
  }
}
