/**
 * A handle's two words packed into one JS Number wherever they fit, so that the registry's lookups
 * hash a double rather than build and hash a 128-bit BigInt (three allocations and a call out of the
 * JIT's code per key: the dearest step of a tracked acquire + free).
 *
 * `dwLower` below 2^47 (a user-space address on x64, or a small index) and a `dwUpper` among the
 * first 64 distinct upper words seen (a provider's package pointer or index: a handful per process)
 * pack exactly as `index(dwUpper) * 2^47 + dwLower`, below 2^53. Any other pair stays the BigInt
 * `dwUpper << 64 | dwLower`. A pair always gets the same form (an upper word's index never changes),
 * so equal handles have equal keys either way.
 */
import type { HandleKey } from '../types.js';

const LOWER_LIMIT = 2 ** 47;
const MAX_UPPERS = 64;
const WORD = (1n << 64n) - 1n;
const TWO_32 = 2 ** 32;

/** The upper words seen, by index; index 0 is 0, so the all-zero handle packs as 0. */
const uppers: number[] = [0];
const upperIndex = new Map<number, number>([[0, 0]]);
/** Handles of one provider share their upper word: most lookups stop here. */
let lastUpper = 0;
let lastIndex = 0;

function indexOf(upper: number): number | undefined {
  if (upper === lastUpper) return lastIndex;
  let index = upperIndex.get(upper);
  if (index === undefined) {
    if (uppers.length >= MAX_UPPERS) return undefined;
    index = uppers.push(upper) - 1;
    upperIndex.set(upper, index);
  }
  lastUpper = upper;
  lastIndex = index;
  return index;
}

/** A word as a non-negative safe integer Number, when it is one. */
function asNumber(word: unknown): number | undefined {
  if (typeof word === 'number') return Number.isSafeInteger(word) && word >= 0 ? word : undefined;
  if (typeof word === 'bigint') return word >= 0n && word <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(word) : undefined;
  return undefined;
}

/** One ULONG_PTR as an unsigned 64-bit BigInt, whether koffi gave a Number or a (signed) BigInt. */
function asWord(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value >= 0n && value <= WORD ? value : BigInt.asUintN(64, value);
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt.asUintN(64, BigInt(value));
  return undefined;
}

/** The key of the pair (`lower`, `upper`), each a Number or BigInt as koffi gave it; undefined for anything else. */
export function handleKey(lower: unknown, upper: unknown): HandleKey | undefined {
  const l = asNumber(lower);
  if (l !== undefined && l < LOWER_LIMIT) {
    const u = asNumber(upper);
    const index = u === undefined ? undefined : indexOf(u);
    if (index !== undefined) return index * LOWER_LIMIT + l;
  }
  const lw = asWord(lower);
  if (lw === undefined) return undefined;
  const uw = asWord(upper);
  return uw === undefined ? undefined : (uw << 64n) | lw;
}

/** The key of 16 bytes of memory holding the pair (little-endian), read as 32-bit halves: no BigInt when it packs. */
export function handleKeyOfBytes(bytes: DataView): HandleKey {
  const lowHigh = bytes.getUint32(4, true);
  const upHigh = bytes.getUint32(12, true);
  if (lowHigh < 2 ** 21 && upHigh < 2 ** 21) {
    return handleKey(lowHigh * TWO_32 + bytes.getUint32(0, true), upHigh * TWO_32 + bytes.getUint32(8, true))!;
  }
  return handleKey(bytes.getBigUint64(0, true), bytes.getBigUint64(8, true))!;
}

/** The two words of a key made by `handleKey`, for handing the handle back to the provider. */
export function handleWords(key: number | bigint): [lower: bigint, upper: bigint] {
  if (typeof key === 'bigint') return [key & WORD, key >> 64n];
  const index = Math.floor(key / LOWER_LIMIT);
  return [BigInt(key - index * LOWER_LIMIT), BigInt(uppers[index]!)];
}

/** Whether `key` is the all-zero handle (what an out-param the provider did not write holds). */
export function isZeroKey(key: HandleKey): boolean {
  return key === 0 || key === 0n;
}
