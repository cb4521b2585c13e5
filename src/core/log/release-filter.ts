/**
 * Which handle values the call log's waiting rows touch, per kind, as a 1024-bit filter: the
 * double-free guard asks about every handle a call passes, and for most the answer is "no waiting
 * row touches it", found here with one bit read instead of a scan of the rows. A set bit may be
 * another value's (the log then scans); a clear bit is certain.
 */
import { HANDLE_KINDS, perKind, type HandleKind, type ReadHandle } from '../../types.js';

const WORDS = 32;

function bitOf(key: number): number {
  const mixed = Math.imul((key >>> 0) ^ ((key / 4294967296) >>> 0), 0x9e3779b1);
  return mixed >>> 22;
}

export class ReleaseFilter {
  private readonly bits = perKind(() => new Uint32Array(WORDS));
  /** A BigInt or string key was added: such keys are not hashed here, so any may be there. */
  private readonly wide = perKind(() => false);
  private empty = true;

  add(kind: HandleKind, key: ReadHandle): void {
    if (key === null || key === undefined) return;
    this.empty = false;
    if (typeof key !== 'number') {
      this.wide[kind] = true;
      return;
    }
    const bit = bitOf(key);
    const words = this.bits[kind];
    words[bit >>> 5] = words[bit >>> 5]! | (1 << (bit & 31));
  }

  mayHold(kind: HandleKind, key: ReadHandle): boolean {
    if (this.empty || key === null || key === undefined) return false;
    if (typeof key !== 'number') return this.wide[kind];
    const bit = bitOf(key);
    return (this.bits[kind][bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  clear(): void {
    if (this.empty) return;
    for (const kind of HANDLE_KINDS) {
      this.bits[kind].fill(0);
      this.wide[kind] = false;
    }
    this.empty = true;
  }
}
