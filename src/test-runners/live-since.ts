/**
 * The one read the test plugins make of the registry: the live handles made since the last look.
 * The registry numbers each handle as it opens it (`TrackedHandle.id`, growing in creation order),
 * so the highest id seen so far is a mark every later handle lies above. Each look reads the live
 * handles once (after what waits is applied): its cost grows with the handles live, not with the
 * calls made, and nothing is added to the path of an SSPI call.
 */
import type { HandleRegistry } from '../core/registry.js';
import type { TrackedHandle } from '../types.js';

export class LiveSince {
  /** The highest handle id seen live: every handle opened later has a higher one. */
  private mark = 0;

  constructor(private readonly registry: HandleRegistry) {
    this.take();
  }

  /** The handles made since the last call and live now, oldest first by kind; moves the mark past them. */
  take(): TrackedHandle[] {
    const since = this.mark;
    const made = this.registry.settled().liveHandles((h) => h.id > since);
    for (const h of made) if (h.id > this.mark) this.mark = h.id;
    return made;
  }

  /** Whether `handle` is still live (released records stay around, replaced when their value is re-issued). */
  isLive(handle: TrackedHandle): boolean {
    return this.registry.settled().get(handle.kind, handle.key) === handle;
  }
}
