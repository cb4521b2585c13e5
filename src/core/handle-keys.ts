/**
 * A handle's two words packed into one JS Number wherever they fit, so that the registry's lookups
 * hash a double rather than a 128-bit BigInt built per call (three allocations, and a call out of
 * the JIT's code on every Map operation: the dearest step of a tracked acquire + free).
 *
 * Each word is read as a signed 64-bit value: a user-space address is a small positive one, and
 * WinPR's handle words (the complement of an address) small negative ones. A `dwLower` within
 * ±2^47 and a `dwUpper` among the first 32 distinct upper words seen (a provider's package pointer
 * or index: a handful per process) pack exactly as `index(dwUpper) * 2^48 + dwLower + 2^47`, below
 * 2^53. Any other pair stays the BigInt `dwUpper << 64 | dwLower`. A pair always gets the same form
 * (an upper word's index never changes), so equal handles have equal keys either way.
 */
import type { HandleKey } from '../types.js';

const LOWER_SPAN = 2 ** 48;
const LOWER_BIAS = 2 ** 47;
const MAX_UPPERS = 32;
const WORD = (1n << 64n) - 1n;
const TWO_32 = 2 ** 32;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The upper words seen (signed), by index; index 0 is 0. */
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

/**
 * The last two BigInt words converted, and what they gave: providers hand the same values out again
 * and again (an upper word per package; a freed handle's lower word re-issued at once), and comparing
 * a BigInt costs less than converting it. Two, since a handle's words are read in turn.
 */
let recentWord0 = -1n;
let recentValue0: number | undefined = undefined;
let recentWord1 = -1n;
let recentValue1: number | undefined = undefined;
let replaceFirst = true;

/** A word as a signed 64-bit value in a Number, when that is exact. */
function signed(word: unknown): number | undefined {
  if (typeof word === 'number') return Number.isSafeInteger(word) ? word : undefined;
  if (typeof word !== 'bigint') return undefined;
  if (word === recentWord0) return recentValue0;
  if (word === recentWord1) return recentValue1;
  // Rounding to a double keeps a value within ±(2^53 − 1) exact and one beyond it beyond it, so the
  // double says whether it was exact, without comparing BigInts.
  const rounded = Number(BigInt.asIntN(64, word));
  const result = rounded <= Number.MAX_SAFE_INTEGER && rounded >= -Number.MAX_SAFE_INTEGER ? rounded : undefined;
  if (replaceFirst) {
    recentWord0 = word;
    recentValue0 = result;
  } else {
    recentWord1 = word;
    recentValue1 = result;
  }
  replaceFirst = !replaceFirst;
  return result;
}

/** One ULONG_PTR as an unsigned 64-bit BigInt, whether koffi gave a Number or a (signed) BigInt. */
function asWord(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value >= 0n && value <= WORD ? value : BigInt.asUintN(64, value);
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt.asUintN(64, BigInt(value));
  return undefined;
}

/** The key of the pair (`lower`, `upper`), each a Number or BigInt as koffi gave it; undefined for anything else. */
export function handleKey(lower: unknown, upper: unknown): HandleKey | undefined {
  const l = signed(lower);
  if (l !== undefined && l < LOWER_BIAS && l >= -LOWER_BIAS) {
    const u = signed(upper);
    const index = u === undefined ? undefined : indexOf(u);
    if (index !== undefined) return index * LOWER_SPAN + l + LOWER_BIAS;
  }
  const lw = asWord(lower);
  if (lw === undefined) return undefined;
  const uw = asWord(upper);
  return uw === undefined ? undefined : (uw << 64n) | lw;
}

/** The key of 16 bytes of memory holding the pair (little-endian), read as 32-bit halves: no BigInt when it packs. */
export function handleKeyOfBytes(bytes: DataView): HandleKey {
  const lowHigh = bytes.getInt32(4, true);
  const upHigh = bytes.getInt32(12, true);
  if (lowHigh < 2 ** 20 && lowHigh >= -(2 ** 20) && upHigh < 2 ** 20 && upHigh >= -(2 ** 20)) {
    return handleKey(lowHigh * TWO_32 + bytes.getUint32(0, true), upHigh * TWO_32 + bytes.getUint32(8, true))!;
  }
  return handleKey(bytes.getBigUint64(0, true), bytes.getBigUint64(8, true))!;
}

/** The two words of a key made by `handleKey`, for handing the handle back to the provider. */
export function handleWords(key: number | bigint): [lower: bigint, upper: bigint] {
  if (typeof key === 'bigint') return [key & WORD, key >> 64n];
  const index = Math.floor(key / LOWER_SPAN);
  return [BigInt.asUintN(64, BigInt(key - index * LOWER_SPAN - LOWER_BIAS)), BigInt.asUintN(64, BigInt(uppers[index]!))];
}

/** A buffer's key: its address (non-zero), a Number when exact (every user-space address), else the unsigned BigInt. */
export function addressKey(address: bigint): HandleKey {
  return address > 0n && address <= MAX_SAFE ? Number(address) : BigInt.asUintN(64, address);
}

/** The all-zero handle's key (what an out-param the provider did not write holds). */
const ZERO_KEY = LOWER_BIAS;

export function isZeroKey(key: HandleKey): boolean {
  return key === ZERO_KEY || key === 0n;
}
