/**
 * Which handle values the call log's waiting rows touch, per kind, as a 1024-bit filter: the
 * double-free guard asks about every handle a call passes, and for most the answer is "no waiting
 * row touches it", found here with one bit read instead of a scan of the rows. A set bit may be
 * another value's (the log then scans); a clear bit is certain. It also keeps the latest effect on
 * each kind: a call most often passes the value the call before it handed out (a free after its
 * acquire, the next handshake step), and that answer needs no scan either.
 */
import type { HandleKind, ReadHandle } from '../../types.js';

const WORDS = 32;

function bitOf(key: number): number {
  const mixed = Math.imul((key >>> 0) ^ ((key / 4294967296) >>> 0), 0x9e3779b1);
  return mixed >>> 22;
}

/** What the waiting rows did to one kind's values. */
class KindFilter {
  readonly bits = new Uint32Array(WORDS);
  /** A BigInt or string key was added: such keys are not hashed here, so any may be there. */
  wide = false;
  /** The latest row's value (NULL or unreadable included), and whether it releases it. */
  latestKey: ReadHandle = undefined;
  latestReleases = false;
  /** Something was added since the last clear: a kind no row touched is not cleared again. */
  used = false;

  clear(): void {
    if (!this.used) return;
    const bits = this.bits;
    for (let i = 0; i < WORDS; i++) bits[i] = 0;
    this.wide = false;
    this.latestKey = undefined;
    this.used = false;
  }
}

export class ReleaseFilter {
  // One field per kind, picked by a switch: `filters[kind]` with a kind that varies is a megamorphic keyed load.
  private readonly credential = new KindFilter();
  private readonly context = new KindFilter();
  private readonly buffer = new KindFilter();
  private empty = true;

  /** A waiting row releases `key` (`releases`) or hands it out. */
  add(kind: HandleKind, key: ReadHandle, releases: boolean): void {
    const filter = this.of(kind);
    filter.used = true;
    filter.latestKey = key;
    filter.latestReleases = releases;
    if (key === null || key === undefined) return;
    this.empty = false;
    if (typeof key !== 'number') {
      filter.wide = true;
      return;
    }
    const bit = bitOf(key);
    const words = filter.bits;
    words[bit >>> 5] = words[bit >>> 5]! | (1 << (bit & 31));
  }

  mayHold(kind: HandleKind, key: ReadHandle): boolean {
    if (this.empty || key === null || key === undefined) return false;
    const filter = this.of(kind);
    if (typeof key !== 'number') return filter.wide;
    const bit = bitOf(key);
    return (filter.bits[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  /**
   * What the latest waiting row with an effect on `kind` does to `key`, when that row's value is
   * `key`: releases it (true) or hands it out (false). Undefined: its value is another, or none is.
   */
  latestEffect(kind: HandleKind, key: ReadHandle): boolean | undefined {
    if (key === null || key === undefined) return undefined;
    const filter = this.of(kind);
    return filter.latestKey === key ? filter.latestReleases : undefined;
  }

  clear(): void {
    this.credential.clear();
    this.context.clear();
    this.buffer.clear();
    this.empty = true;
  }

  private of(kind: HandleKind): KindFilter {
    switch (kind) {
      case 'credential':
        return this.credential;
      case 'context':
        return this.context;
      case 'buffer':
        return this.buffer;
    }
  }
}
