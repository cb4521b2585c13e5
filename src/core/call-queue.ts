/**
 * Changes to handle state the hooks observed and the registry has not applied yet (the registry's
 * `queue`, which the lifecycle rules add to), and what they do meanwhile to the one answer that cannot wait: whether a
 * handle value is released (the double-free guard's question).
 *
 * Applying each observed call on the spot, between two native SSPI calls, ran the agent's code and
 * data cold (the provider's work evicts them from the CPU caches) at three to ten times its warm
 * cost; applied in a batch, the second and later changes find them warm.
 */
import { setImmediate } from 'node:timers'; // Node's own, not a global an app's fake timers may have replaced
import { agentError } from '../diagnostics.js';
import { HANDLE_KINDS, perKind, type HandleKey, type HandleKind } from '../types.js';

/** How many changes may wait before they are applied on the spot. */
export const PENDING_LIMIT = 256;

type Change<T> = (target: T, item: never) => void;

export class CallQueue<T> {
  /** In call order: `changes[i](target, items[i])`. */
  private readonly changes: Change<T>[] = [];
  private readonly items: unknown[] = [];
  /**
   * Per handle value, what the last waiting change does to it: releases it (true) or hands it out
   * (false: providers re-issue a freed value at once). One Map write per change and one read per
   * guard check: a BigInt is hashed anew on every Map operation.
   */
  private readonly effects: Record<HandleKind, Map<HandleKey, boolean>> = perKind(() => new Map());
  /**
   * Per kind, the value the last waiting change touches, kept out of `effects` until a change touches
   * another: an acquire and the release of what it made (or a handshake's calls on one context) then
   * cost no Map operation at all.
   */
  private readonly latest = perKind((): { key: HandleKey | undefined; releases: boolean } => ({ key: undefined, releases: false }));
  private applying = false;
  private scheduled = false;
  /** Cleared at the process end: no event-loop turn would come to apply what waits. */
  private deferring = true;
  private readonly applySoon = () => {
    this.scheduled = false;
    this.applyAll();
  };

  /** Told when changes start to wait, and when none waits any more (a worker's slot says so to the main thread). */
  onWaiting: ((waiting: boolean) => void) | undefined;

  /** `target`: what the changes are applied to, handed to each. */
  constructor(private readonly target: T) {}

  /** Whether anything waits, outside of applying it. */
  get waiting(): boolean {
    return this.items.length !== 0 && !this.applying;
  }

  /** Queues `change(target, item)`; applies everything at once when the queue is full or deferring stopped. */
  add<I>(change: (target: T, item: I) => void, item: I): void {
    this.changes.push(change as Change<T>);
    if (this.items.push(item) === 1) this.onWaiting?.(true);
    if (this.items.length >= PENDING_LIMIT || !this.deferring) this.applyAll();
    else if (!this.scheduled) this.schedule();
  }

  /** The change about to be added releases `key` (`releases`) or hands it out. */
  expect(kind: HandleKind, key: HandleKey, releases: boolean): void {
    const latest = this.latest[kind];
    if (latest.key !== undefined && latest.key !== key) this.effects[kind].set(latest.key, latest.releases);
    latest.key = key;
    latest.releases = releases;
  }

  /** What the waiting changes do to `key`: release it (true), hand it out (false), or nothing said. */
  effectOn(kind: HandleKind, key: HandleKey): boolean | undefined {
    const latest = this.latest[kind];
    return latest.key === key ? latest.releases : this.effects[kind].get(key);
  }

  /** Applies what waits, in order. Re-entrant calls (a change's own reads) return at once. */
  applyAll(): void {
    if (this.items.length === 0 || this.applying) return;
    this.applying = true;
    const { changes, items } = this;
    try {
      // Changes added while applying (none expected) are appended and applied in this loop.
      for (let i = 0; i < items.length; i++) {
        try {
          changes[i]!(this.target, items[i] as never);
        } catch (err) {
          agentError('registry.settle', err);
        }
      }
    } finally {
      changes.length = 0;
      items.length = 0;
      for (const kind of HANDLE_KINDS) {
        this.latest[kind].key = undefined;
        // A cleared Map gets a new table: none when nothing was written.
        if (this.effects[kind].size !== 0) this.effects[kind].clear();
      }
      this.applying = false;
      this.onWaiting?.(false);
    }
  }

  /** From now on every change is applied as it is added (the process is ending). */
  stopDeferring(): void {
    this.deferring = false;
    this.applyAll();
  }

  /** Unreferenced: it must not keep the process alive; the process end applies what is left. */
  private schedule(): void {
    try {
      setImmediate(this.applySoon).unref();
      this.scheduled = true;
    } catch (err) {
      // Not scheduled: what waits is applied at the next read or at PENDING_LIMIT.
      agentError('registry.schedule', err);
    }
  }
}
