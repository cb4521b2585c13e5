/**
 * A handle key held as two small integers, for the store, where a million live records each hold
 * one. A packed key (`handle-keys.ts`: a safe integer) held whole is a heap-allocated double, 16
 * bytes; its two 32-bit halves are each a small integer (a Smi: Node's x64 builds keep 32 bits in
 * one; a build with pointer compression, 31, and boxes a low half beyond), stored in the record.
 *
 * A BigInt or string key (a pair that does not pack; node-expose-sspi's keys) is held whole in
 * `high`, with `low` 0; a Number that is not a safe integer as its text, with `low` NUMBER_AS_TEXT:
 * a double stored once in a record's small-integer field would make V8 box that field in every record.
 */
import type { HandleKey } from '../types.js';

const TWO_32 = 2 ** 32;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const NUMBER_AS_TEXT = 1;

/** The high half of `key`, or the key itself when it does not split. */
export type KeyHigh = number | bigint | string;

export function highOf(key: HandleKey): KeyHigh {
  if (typeof key !== 'number') return key;
  // `+ 0`: Math.floor(-0) is -0, which is no small integer.
  return isSafeInteger(key) ? Math.floor(key / TWO_32) + 0 : String(key);
}

/** The low 32 bits of a key that splits, signed; for one held whole, 0 or `NUMBER_AS_TEXT`. */
export function lowOf(key: HandleKey): number {
  if (typeof key === 'number') return isSafeInteger(key) ? key | 0 : NUMBER_AS_TEXT;
  return 0;
}

/** The key the halves stand for: an equal value, of the type `highOf` and `lowOf` were given (-0 comes back 0). */
export function keyOf(high: KeyHigh, low: number): HandleKey {
  if (typeof high === 'number') return high * TWO_32 + (low >>> 0);
  return typeof high === 'string' && low === NUMBER_AS_TEXT ? Number(high) : high;
}

/** Whether the halves stand for `key`, without building the key (no allocation). */
export function halvesMatch(high: KeyHigh, low: number, key: HandleKey): boolean {
  if (typeof high === 'number') return typeof key === 'number' && high * TWO_32 + (low >>> 0) === key;
  return keyOf(high, low) === key;
}

/** `Number.isSafeInteger`, which V8 calls out of line; this compiles to a few compares (NaN fails the first). */
function isSafeInteger(n: number): boolean {
  return Math.floor(n) === n && n <= MAX_SAFE && n >= -MAX_SAFE;
}
