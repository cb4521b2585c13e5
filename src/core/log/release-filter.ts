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

function wideBit(kind: HandleKind): number {
  return kind === 'credential' ? 1 : kind === 'context' ? 2 : 4;
}

/** The latest waiting row's effect on a kind: the value (NULL or unreadable included) and whether it releases it. */
class LatestEffect {
  key: ReadHandle = undefined;
  releases = false;
}

export class ReleaseFilter {
  // One field per kind, picked by a switch: `bits[kind]` with a kind that varies is a megamorphic keyed load.
  private readonly credentialBits = new Uint32Array(WORDS);
  private readonly contextBits = new Uint32Array(WORDS);
  private readonly bufferBits = new Uint32Array(WORDS);
  /** Kinds a BigInt or string key was added for (a bit each): such keys are not hashed here, so any may be there. */
  private wide = 0;
  private empty = true;
  private readonly credentialLatest = new LatestEffect();
  private readonly contextLatest = new LatestEffect();
  private readonly bufferLatest = new LatestEffect();

  /** A waiting row releases `key` (`releases`) or hands it out. */
  add(kind: HandleKind, key: ReadHandle, releases: boolean): void {
    const latest = this.latestOf(kind);
    latest.key = key;
    latest.releases = releases;
    if (key === null || key === undefined) return;
    this.empty = false;
    if (typeof key !== 'number') {
      this.wide |= wideBit(kind);
      return;
    }
    const bit = bitOf(key);
    const words = this.bits(kind);
    words[bit >>> 5] = words[bit >>> 5]! | (1 << (bit & 31));
  }

  mayHold(kind: HandleKind, key: ReadHandle): boolean {
    if (this.empty || key === null || key === undefined) return false;
    if (typeof key !== 'number') return (this.wide & wideBit(kind)) !== 0;
    const bit = bitOf(key);
    return (this.bits(kind)[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  /**
   * What the latest waiting row with an effect on `kind` does to `key`, when that row's value is
   * `key`: releases it (true) or hands it out (false). Undefined: its value is another, or none is.
   */
  latestEffect(kind: HandleKind, key: ReadHandle): boolean | undefined {
    if (key === null || key === undefined) return undefined;
    const latest = this.latestOf(kind);
    return latest.key === key ? latest.releases : undefined;
  }

  clear(): void {
    this.credentialLatest.key = this.contextLatest.key = this.bufferLatest.key = undefined;
    if (this.empty) return;
    this.credentialBits.fill(0);
    this.contextBits.fill(0);
    this.bufferBits.fill(0);
    this.wide = 0;
    this.empty = true;
  }

  private latestOf(kind: HandleKind): LatestEffect {
    switch (kind) {
      case 'credential':
        return this.credentialLatest;
      case 'context':
        return this.contextLatest;
      case 'buffer':
        return this.bufferLatest;
    }
  }

  private bits(kind: HandleKind): Uint32Array {
    switch (kind) {
      case 'credential':
        return this.credentialBits;
      case 'context':
        return this.contextBits;
      case 'buffer':
        return this.bufferBits;
    }
  }
}
