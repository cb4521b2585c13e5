/**
 * A call-log column of handle keys (`HandleKey`, or NULL, or unreadable), one per row. Packed keys
 * (Numbers, `handle-keys.ts`: never negative) sit in a typed array, beside the negative markers of
 * NULL and unreadable; any other key (a BigInt, a string, a negative Number) in a side map under its row.
 */
import type { HandleKey, ReadHandle } from '../../types.js';

/** The log's columns of handle keys. */
export type KeyColumnName = 'credential' | 'context' | 'buffer' | 'out' | 'failedOut';

const NULL_KEY = -1;
const UNREADABLE = -2;
const WIDE = -3;

export class KeyColumn {
  private readonly numbers: Float64Array;
  private readonly wide = new Map<number, HandleKey>();

  constructor(rows: number) {
    this.numbers = new Float64Array(rows).fill(UNREADABLE);
  }

  set(row: number, key: ReadHandle): void {
    if (typeof key === 'number' && key >= 0) {
      this.numbers[row] = key;
    } else if (key === null) {
      this.numbers[row] = NULL_KEY;
    } else if (key === undefined) {
      this.numbers[row] = UNREADABLE;
    } else {
      this.numbers[row] = WIDE;
      this.wide.set(row, key);
    }
  }

  get(row: number): ReadHandle {
    const value = this.numbers[row]!;
    if (value >= 0) return value;
    if (value === NULL_KEY) return null;
    return value === WIDE ? this.wide.get(row) : undefined;
  }

  /** Whether the row holds `key` (a handle key: NULL and unreadable never match). */
  equals(row: number, key: ReadHandle): boolean {
    const value = this.numbers[row]!;
    if (typeof key === 'number' && key >= 0) return value === key;
    return value === WIDE && key !== null && key !== undefined && this.wide.get(row) === key;
  }

  /** Forgets the first `rows` rows. */
  clear(rows: number): void {
    const numbers = this.numbers;
    for (let row = 0; row < rows; row++) numbers[row] = UNREADABLE;
    if (this.wide.size !== 0) this.wide.clear();
  }
}
