/**
 * Which live handles are stale, kept beside the registry's live lists: a handle older than its kind's
 * limit (`age`), a context whose handshake is unfinished after the handshake limit (`abandoned`), each
 * flagged once and counted until it ends. A check walks only what it flags (plus one handle per
 * list), never the whole registry: the live lists are in creation order, and a cursor marks where the
 * last check stopped.
 */
import type { HandleRecord } from './handle-record.js';
import { HANDLE_KINDS, perKind, type HandleKind, type StaleReason } from '../types.js';

/** Age limits in milliseconds; 0 turns a check off. */
export interface StaleLimits {
  credential: number;
  context: number;
  buffer: number;
  handshake: number;
}

export class StaleMarks {
  /** The first live handle not yet checked for age: every live handle before it is stale. */
  private readonly ageCursor: Record<HandleKind, HandleRecord | undefined> = perKind(() => undefined);
  /**
   * The first live context not yet checked for an abandoned handshake (contexts before it are older
   * than the limit and were checked). A cursor into the creation-ordered list rather than a Set of
   * contexts mid-handshake: no hashing on the per-handshake path.
   */
  private handshakeCursor: HandleRecord | undefined;
  private readonly counts = perKind(() => ({ age: 0, abandoned: 0 }) as Record<StaleReason, number>);

  /** A handle was appended to its kind's live list. */
  opened(handle: HandleRecord, kind: HandleKind): void {
    if (this.ageCursor[kind] === undefined) this.ageCursor[kind] = handle;
    if (kind === 'context' && this.handshakeCursor === undefined) this.handshakeCursor = handle;
  }

  /** A handle is about to leave its live list: cursors move on before the list unlinks it (and clears its links). */
  closing(handle: HandleRecord, kind: HandleKind): void {
    if (this.ageCursor[kind] === handle) this.ageCursor[kind] = handle.next;
    if (this.handshakeCursor === handle) this.handshakeCursor = handle.next;
    const stale = handle.stale;
    if (stale) this.counts[kind][stale]--;
  }

  count(kind: HandleKind, reason: StaleReason): number {
    return this.counts[kind][reason];
  }

  /** Flags, through `flag`, each live handle that turned stale since the last check. */
  check(limits: StaleLimits, now: number, flag: (handle: HandleRecord, reason: StaleReason) => void): void {
    const mark = (handle: HandleRecord, reason: StaleReason) => {
      const details = handle.more();
      details.stale = reason;
      details.staleAt = now;
      this.counts[handle.kind][reason]++;
      flag(handle, reason);
    };
    for (const kind of HANDLE_KINDS) {
      const maxAge = limits[kind];
      if (maxAge <= 0) continue;
      let h: HandleRecord | undefined = this.ageCursor[kind];
      while (h && now - h.createdAt > maxAge) {
        if (!h.stale) mark(h, 'age');
        h = h.next;
      }
      this.ageCursor[kind] = h;
    }
    if (limits.handshake <= 0) return;
    let h = this.handshakeCursor;
    while (h && now - h.createdAt > limits.handshake) {
      if (h.handshake === 'in-progress' && !h.stale) mark(h, 'abandoned');
      h = h.next;
    }
    this.handshakeCursor = h;
  }
}
