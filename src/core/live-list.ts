import type { TrackedHandle } from '../types.js';

/**
 * Live handles of one kind in creation order, linked through the records themselves: the oldest is
 * the head (O(1)), any handle leaves in O(1), and walking it from the head visits oldest first, which
 * is what age-based checks want. A Map's insertion order would give the same order, but finding its
 * first entry can cost a scan over deleted slots.
 */
export class LiveList {
  private head: TrackedHandle | undefined;
  private tail: TrackedHandle | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  oldest(): TrackedHandle | undefined {
    return this.head;
  }

  append(handle: TrackedHandle): void {
    handle.prev = this.tail;
    handle.next = undefined;
    if (this.tail) this.tail.next = handle;
    else this.head = handle;
    this.tail = handle;
    this.count++;
  }

  remove(handle: TrackedHandle): void {
    if (handle.prev) handle.prev.next = handle.next;
    else this.head = handle.next;
    if (handle.next) handle.next.prev = handle.prev;
    else this.tail = handle.prev;
    handle.prev = handle.next = undefined;
    this.count--;
  }

  *[Symbol.iterator](): IterableIterator<TrackedHandle> {
    for (let h = this.head; h; h = h.next) yield h;
  }
}
