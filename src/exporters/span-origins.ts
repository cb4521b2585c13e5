/**
 * Where each handle was made, as a span context: what a leak or misuse span links to. Read rarely
 * (a finding), written for every handle made in a traced call, so the write path does no Map
 * operation: most handles are released within moments, and a Map that gains and loses an entry
 * per handle rebuilds its table every few handles. A handle's origin goes to a ring of recent
 * openings; when the ring comes round to it, a handle still live moves to a Map (the long-lived
 * ones, few), a released one to a ring of released handles (a double release links there too).
 * A handle released soon after it was made is found among the last few openings and moved to the
 * released ring at once: asking a record made a thousand handles ago whether it was released is a
 * read of cold memory.
 */
import type { SpanContext } from '@opentelemetry/api';
import type { TrackedHandle } from '../types.js';

/** How far back among the openings a release looks for its handle. */
const CLOSE_LOOKBACK = 4;

/** A ring of handles and their origins; a lookup scans it (a finding is rare). */
class OriginRing {
  readonly handles: (TrackedHandle | undefined)[];
  readonly origins: (SpanContext | undefined)[];
  next = 0;

  constructor(readonly size: number) {
    this.handles = new Array<TrackedHandle | undefined>(size).fill(undefined);
    this.origins = new Array<SpanContext | undefined>(size).fill(undefined);
  }

  /** Writes over the oldest slot. */
  put(handle: TrackedHandle, origin: SpanContext): void {
    this.handles[this.next] = handle;
    this.origins[this.next] = origin;
    this.next = (this.next + 1) % this.size;
  }

  find(handle: TrackedHandle): SpanContext | undefined {
    const i = this.handles.lastIndexOf(handle);
    return i < 0 ? undefined : this.origins[i];
  }
}

export class SpanOrigins {
  private readonly recent: OriginRing;
  private readonly released: OriginRing;
  private readonly longLived = new Map<TrackedHandle, SpanContext>();
  /** `longLived`'s size at which it is next swept of handles released since they moved there. */
  private sweepAt: number;

  /** `recent`: openings kept in the ring; `released`: released handles remembered. */
  constructor(recent: number, released: number) {
    this.recent = new OriginRing(recent);
    this.released = new OriginRing(released);
    this.sweepAt = recent;
  }

  set(handle: TrackedHandle, origin: SpanContext): void {
    const ring = this.recent;
    const leaving = ring.handles[ring.next];
    if (leaving !== undefined) this.keep(leaving, ring.origins[ring.next]!);
    ring.put(handle, origin);
  }

  /** `handle` was released: if it is among the last few openings, it moves to the released ring now. */
  closed(handle: TrackedHandle): void {
    const ring = this.recent;
    for (let back = 1; back <= CLOSE_LOOKBACK; back++) {
      const slot = (ring.next - back + ring.size) % ring.size;
      if (ring.handles[slot] !== handle) continue;
      this.released.put(handle, ring.origins[slot]!);
      ring.handles[slot] = undefined;
      ring.origins[slot] = undefined;
      return;
    }
  }

  get(handle: TrackedHandle): SpanContext | undefined {
    return this.longLived.get(handle) ?? this.recent.find(handle) ?? this.released.find(handle);
  }

  /** How many handles' origins are kept apart from the two rings: the live ones that outlived `recent`. */
  get longLivedCount(): number {
    return this.longLived.size;
  }

  /** A handle leaving the ring of recent openings. */
  private keep(handle: TrackedHandle, origin: SpanContext): void {
    if (handle.releasedBy !== undefined) {
      this.released.put(handle, origin);
      return;
    }
    this.longLived.set(handle, origin);
    if (this.longLived.size >= this.sweepAt) this.sweep();
  }

  /** Moves the long-lived handles released since to the released ring: amortized O(1) per handle. */
  private sweep(): void {
    for (const [handle, origin] of this.longLived) {
      if (handle.releasedBy === undefined) continue;
      this.longLived.delete(handle);
      this.released.put(handle, origin);
    }
    this.sweepAt = Math.max(this.recent.size, 2 * this.longLived.size);
  }
}
