/**
 * The one owner of handle state. Hooks tell it what SSPI calls did; it keeps the live handles, and
 * tells its listeners (the exporters) what changed. It knows nothing of koffi or Prometheus.
 */
import { performance } from 'node:perf_hooks';
import { agentError } from './diagnostics.js';
import { LiveList } from './live-list.js';
import type {
  Direction,
  HandleKey,
  HandleKind,
  HandleOpening,
  InvalidReleaseReason,
  LeakReason,
  RegistryListener,
  TrackedHandle,
} from './types.js';

export const HANDLE_KINDS: readonly HandleKind[] = ['credential', 'context'];

/** Live handles that share every metric label: what a gauge series counts. */
export interface LiveGroup {
  readonly kind: HandleKind;
  readonly package: string;
  readonly direction: Direction;
  count: number;
}

/** What a release call did to the registry. */
export type ReleaseOutcome =
  | { result: 'released'; handle: TrackedHandle; lifetimeSeconds: number }
  | { result: InvalidReleaseReason; handle: TrackedHandle | undefined };

type PerKind<T> = Record<HandleKind, T>;

export class HandleRegistry {
  private readonly byKey: PerKind<Map<HandleKey, TrackedHandle>> = { credential: new Map(), context: new Map() };
  private readonly live: PerKind<LiveList> = { credential: new LiveList(), context: new LiveList() };
  /** kind → package → direction → group: nested, so the hot path builds no key strings. */
  private readonly groups: PerKind<Map<string, Map<Direction, LiveGroup>>> = { credential: new Map(), context: new Map() };
  private readonly listeners: RegistryListener[] = [];
  private nextId = 1;

  subscribe(listener: RegistryListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * A handle came to life. A live record with the same value means the provider reused a value whose
   * release the agent did not see: the old record is closed so that opened − closed = live holds.
   */
  open(opening: HandleOpening): TrackedHandle {
    const stale = this.byKey[opening.kind].get(opening.key);
    if (stale) this.close(stale);
    const handle: TrackedHandle = {
      id: this.nextId++,
      key: opening.key,
      kind: opening.kind,
      package: opening.package,
      direction: opening.direction,
      createdBy: opening.createdBy,
      library: opening.library,
      createdAt: performance.now(),
      createdAtEpochMs: Date.now(),
      credential: opening.credential,
      site: opening.site,
      prev: undefined,
      next: undefined,
    };
    this.byKey[handle.kind].set(handle.key, handle);
    this.live[handle.kind].append(handle);
    this.group(handle).count++;
    this.emit('onOpen', handle);
    return handle;
  }

  get(kind: HandleKind, key: HandleKey): TrackedHandle | undefined {
    return this.byKey[kind].get(key);
  }

  /**
   * A release call returned `status`. A release of a handle never seen counts as `unknown`; an error
   * status as `failed`, and the handle stays live: the provider still holds it.
   */
  release(kind: HandleKind, key: HandleKey, status: number): ReleaseOutcome {
    const handle = this.byKey[kind].get(key);
    if (!handle) return this.invalid(kind, 'unknown', undefined);
    if (status < 0) return this.invalid(kind, 'failed', handle);
    return { result: 'released', handle, lifetimeSeconds: this.close(handle) };
  }

  recordCall(fn: string, status: number, durationSeconds: number): void {
    this.emit('onCall', fn, status, durationSeconds);
  }

  /** Declares every live handle leaked for `reason` (they stay live: nothing released them). */
  declareLeaks(reason: LeakReason): TrackedHandle[] {
    const leaked = this.liveHandles();
    for (const handle of leaked) this.emit('onLeak', handle, reason);
    return leaked;
  }

  liveCount(kind: HandleKind): number {
    return this.live[kind].size;
  }

  /** O(1): the head of the creation-ordered list. */
  oldest(kind: HandleKind): TrackedHandle | undefined {
    return this.live[kind].oldest();
  }

  /** Live counts by metric labels; the number of groups is bounded by the label values, not by handles. */
  liveGroups(): LiveGroup[] {
    return HANDLE_KINDS.flatMap((kind) => [...this.groups[kind].values()].flatMap((byDirection) => [...byDirection.values()]));
  }

  /** Every live handle, oldest first, credentials then contexts. */
  liveHandles(): TrackedHandle[] {
    return HANDLE_KINDS.flatMap((kind) => [...this.live[kind]]);
  }

  private close(handle: TrackedHandle): number {
    this.byKey[handle.kind].delete(handle.key);
    this.live[handle.kind].remove(handle);
    this.group(handle).count--;
    const lifetimeSeconds = (performance.now() - handle.createdAt) / 1000;
    this.emit('onClose', handle, lifetimeSeconds);
    return lifetimeSeconds;
  }

  private invalid(kind: HandleKind, reason: InvalidReleaseReason, handle: TrackedHandle | undefined): ReleaseOutcome {
    this.emit('onInvalidRelease', kind, reason);
    return { result: reason, handle };
  }

  private group(handle: TrackedHandle): LiveGroup {
    const byPackage = this.groups[handle.kind];
    let byDirection = byPackage.get(handle.package);
    if (!byDirection) {
      byDirection = new Map();
      byPackage.set(handle.package, byDirection);
    }
    let group = byDirection.get(handle.direction);
    if (!group) {
      group = { kind: handle.kind, package: handle.package, direction: handle.direction, count: 0 };
      byDirection.set(handle.direction, group);
    }
    return group;
  }

  /** Fixed arity rather than rest arguments: this runs on every SSPI call and should not allocate. */
  private emit(event: 'onOpen', handle: TrackedHandle): void;
  private emit(event: 'onClose', handle: TrackedHandle, lifetimeSeconds: number): void;
  private emit(event: 'onInvalidRelease', kind: HandleKind, reason: InvalidReleaseReason): void;
  private emit(event: 'onLeak', handle: TrackedHandle, reason: LeakReason): void;
  private emit(event: 'onCall', fn: string, status: number, durationSeconds: number): void;
  private emit(event: keyof RegistryListener, a: unknown, b?: unknown, c?: unknown): void {
    for (const listener of this.listeners) {
      const fn = listener[event] as ((a: unknown, b: unknown, c: unknown) => void) | undefined;
      if (fn === undefined) continue;
      try {
        fn.call(listener, a, b, c);
      } catch (err) {
        agentError(`listener.${event}`, err);
      }
    }
  }
}
