/**
 * The one owner of handle state. Hooks tell it what SSPI calls did; detectors tell it what they
 * found; it keeps the live handles and the recently released ones, and tells its listeners (the
 * exporters) what changed. It knows nothing of koffi or Prometheus.
 */
import { performance } from 'node:perf_hooks';
import { agentError } from './diagnostics.js';
import { LiveList } from './live-list.js';
import type {
  AllocationSite,
  CallDetails,
  Direction,
  ForcedRelease,
  HandleKey,
  HandleKind,
  HandleOpening,
  InvalidRelease,
  InvalidReleaseReason,
  LeakReason,
  RegistryListener,
  ReleasedHandle,
  StaleReason,
  TrackedHandle,
} from './types.js';

export const HANDLE_KINDS: readonly HandleKind[] = ['credential', 'context', 'buffer'];

/** How many calls a context's history keeps: enough for a handshake and what went wrong after. */
export const HISTORY_SIZE = 8;

/** How many released handles are remembered for the double-free guard (oldest forgotten first). */
export const RELEASED_MEMORY = 10_000;

const SEC_I_CONTINUE_NEEDED = 0x00090312;
const SEC_I_COMPLETE_NEEDED = 0x00090313;
const SEC_I_COMPLETE_AND_CONTINUE = 0x00090314;

/** Live handles that share every metric label: what a gauge series counts. */
export interface LiveGroup {
  readonly kind: HandleKind;
  readonly package: string;
  readonly direction: Direction;
  count: number;
}

/** Age limits in milliseconds; 0 turns a check off. */
export interface StaleLimits {
  credential: number;
  context: number;
  buffer: number;
  handshake: number;
}

/** What a release call did to the registry. */
export type ReleaseOutcome =
  | { result: 'released'; handle: TrackedHandle; lifetimeSeconds: number }
  | { result: InvalidReleaseReason; handle: TrackedHandle | undefined };

type PerKind<T> = Record<HandleKind, T>;

function perKind<T>(make: () => T): PerKind<T> {
  return { credential: make(), context: make(), buffer: make() };
}

function handshakeStateOf(status: number): TrackedHandle['handshake'] {
  if (status < 0) return 'failed';
  if (status === SEC_I_CONTINUE_NEEDED || status === SEC_I_COMPLETE_NEEDED || status === SEC_I_COMPLETE_AND_CONTINUE) return 'in-progress';
  return 'complete';
}

export class HandleRegistry {
  /**
   * Every handle value's record, live or released: one entry per value, overwritten when the value is
   * re-issued and deleted only when a released record is forgotten. Providers reuse freed values at
   * once, and deleting then re-adding the same key leaves deleted entries in V8's hash chains that
   * every later lookup walks — at a million live handles that cost more than the SSPI call.
   */
  private readonly records = perKind(() => new Map<HandleKey, TrackedHandle>());
  private readonly live = perKind(() => new LiveList());
  /** kind → package → direction → group: nested, so the hot path builds no key strings. */
  private readonly groups = perKind(() => new Map<string, Map<Direction, LiveGroup>>());
  /** The last RELEASED_MEMORY released records per kind, oldest overwritten first. */
  private readonly releasedRing = perKind(() => new Array<TrackedHandle | undefined>(RELEASED_MEMORY));
  private readonly ringNext = perKind(() => 0);
  /** The first live handle not yet checked for age: every live handle before it is stale. */
  private readonly ageCursor: PerKind<TrackedHandle | undefined> = perKind(() => undefined);
  /** Contexts mid-handshake, in creation order (a Set keeps insertion order). */
  private readonly handshaking = new Set<TrackedHandle>();
  private readonly staleCounts = perKind(() => ({ age: 0, abandoned: 0 }) as Record<StaleReason, number>);
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
    const { kind, key } = opening;
    // A live record with this value: its release was missed. (A released one is simply replaced:
    // allocators reuse values, and the value is live again.)
    const missed = this.get(kind, key);
    if (missed) this.close(missed);
    const now = performance.now();
    const isContext = kind === 'context';
    const status = opening.status ?? 0;
    const handle: TrackedHandle = {
      id: this.nextId++,
      key,
      kind,
      package: opening.package,
      direction: opening.direction,
      createdBy: opening.createdBy,
      library: opening.library,
      createdAt: now,
      credential: opening.credential,
      site: opening.site,
      releaser: opening.releaser,
      provider: opening.provider,
      history: isContext ? [{ fn: opening.createdBy, status, atMs: 0 }] : undefined,
      handshake: isContext ? handshakeStateOf(status) : undefined,
      contexts: undefined,
      stale: undefined,
      staleAt: undefined,
      collected: false,
      releasedBy: undefined,
      releasedAt: undefined,
      releaseSite: undefined,
      prev: undefined,
      next: undefined,
    };
    this.records[kind].set(key, handle);
    this.live[kind].append(handle);
    if (this.ageCursor[kind] === undefined) this.ageCursor[kind] = handle;
    this.group(handle).count++;
    if (handle.handshake === 'in-progress') this.handshaking.add(handle);
    if (isContext && opening.credential && this.get('credential', opening.credential.key) === opening.credential) {
      (opening.credential.contexts ??= new Set()).add(handle);
    }
    this.emit('onOpen', handle, opening.holder);
    return handle;
  }

  /** The live record of a handle value. */
  get(kind: HandleKind, key: HandleKey): TrackedHandle | undefined {
    const record = this.records[kind].get(key);
    return record !== undefined && record.releasedBy === undefined ? record : undefined;
  }

  /** The record of a released handle, while it is remembered and its value not re-issued. */
  releasedHandle(kind: HandleKind, key: HandleKey): ReleasedHandle | undefined {
    const record = this.records[kind].get(key);
    return record !== undefined && record.releasedBy !== undefined ? record : undefined;
  }

  /** A call on a live context: appended to its history; `handshakeStep` calls also move its handshake. */
  touch(handle: TrackedHandle, fn: string, status: number, handshakeStep: boolean): void {
    const history = handle.history;
    if (history) {
      if (history.length >= HISTORY_SIZE) history.shift();
      history.push({ fn, status, atMs: performance.now() - handle.createdAt });
    }
    if (!handshakeStep || handle.handshake === undefined) return;
    handle.handshake = handshakeStateOf(status);
    if (handle.handshake !== 'in-progress') this.handshaking.delete(handle);
  }

  /**
   * A release call returned `status`. A release of a handle not live counts as `double` when the
   * agent remembers releasing it, `unknown` otherwise. An error status counts as `failed`, and the
   * handle ends all the same: an error from Free/Delete (SEC_E_INVALID_HANDLE, mostly) means the
   * provider holds nothing the app could still release.
   */
  release(kind: HandleKind, key: HandleKey, status: number, fn: string, site?: AllocationSite): ReleaseOutcome {
    const handle = this.get(kind, key);
    if (!handle) {
      const released = key === '' ? undefined : this.releasedHandle(kind, key);
      const reason = released ? 'double' : 'unknown';
      this.emit('onInvalidRelease', { kind, reason, fn, released, site });
      return { result: reason, handle: undefined };
    }
    if (status < 0) this.emit('onInvalidRelease', { kind, reason: 'failed', fn, handle, site });
    const lifetimeSeconds = this.close(handle);
    this.remember(handle, fn, site);
    return status < 0 ? { result: 'failed', handle } : { result: 'released', handle, lifetimeSeconds };
  }

  /** The guard stopped a call on a released handle before it reached the provider. */
  blocked(event: InvalidRelease): void {
    this.emit('onInvalidRelease', event);
  }

  recordCall(fn: string, status: number, durationSeconds: number, details?: CallDetails): void {
    this.emit('onCall', fn, status, durationSeconds, details);
  }

  /** Whether a listener wants the details of a call of `fn`: the hook builds them only then. */
  wantsCallDetails(fn: string): boolean {
    for (const listener of this.listeners) {
      try {
        if (listener.wantsCallDetails?.(fn)) return true;
      } catch (err) {
        agentError('listener.wantsCallDetails', err);
      }
    }
    return false;
  }

  /** The JS object holding a live handle was garbage-collected: nobody can release it any more. */
  markCollected(handle: TrackedHandle): void {
    if (handle.collected || this.get(handle.kind, handle.key) !== handle) return;
    handle.collected = true;
    this.emit('onLeak', handle, 'collected');
  }

  /**
   * Flags live handles older than their limits, and contexts whose handshake is unfinished after
   * `limits.handshake`, each once. Walks only what it flags (plus one handle per list), never the
   * whole registry: the live lists are in creation order, and a cursor marks where the last check
   * stopped.
   */
  flagStale(limits: StaleLimits, now = performance.now()): void {
    for (const kind of HANDLE_KINDS) {
      const maxAge = limits[kind];
      if (maxAge <= 0) continue;
      let h = this.ageCursor[kind];
      while (h && now - h.createdAt > maxAge) {
        if (!h.stale) this.flag(h, 'age', now);
        h = h.next;
      }
      this.ageCursor[kind] = h;
    }
    if (limits.handshake <= 0) return;
    for (const h of this.handshaking) {
      if (now - h.createdAt <= limits.handshake) break;
      this.handshaking.delete(h);
      if (!h.stale) this.flag(h, 'abandoned', now);
    }
  }

  /** Declares every live handle leaked for `reason` (they stay live: nothing released them). */
  declareLeaks(reason: LeakReason): TrackedHandle[] {
    const leaked = this.liveHandles();
    for (const handle of leaked) this.emit('onLeak', handle, reason);
    return leaked;
  }

  /** The agent released `handle` itself (forced cleanup); it is closed whatever the status. */
  forcedRelease(handle: TrackedHandle, status: number, trigger: string): ForcedRelease {
    const event: ForcedRelease = { handle, status, result: status < 0 ? 'failed' : 'released', trigger };
    if (this.get(handle.kind, handle.key) === handle) {
      this.close(handle);
      this.remember(handle, `${trigger} cleanup`, undefined);
    }
    this.emit('onForcedRelease', event);
    return event;
  }

  /**
   * A later InitializeSecurityContext / AcceptSecurityContext call wrote a different value into the
   * context handle: the record answers to the new value from now on. Windows keeps the value; Wine's
   * secur32 issues a new one on every successful call, and the app must use (and delete) that one.
   */
  rekey(handle: TrackedHandle, key: HandleKey): void {
    const records = this.records[handle.kind];
    if (handle.key === key || this.get(handle.kind, handle.key) !== handle) return;
    const clash = this.get(handle.kind, key);
    if (clash) this.close(clash);
    records.delete(handle.key);
    (handle as { key: HandleKey }).key = key;
    records.set(key, handle);
  }

  unloadedWithLiveHandles(library: string, live: readonly TrackedHandle[]): void {
    this.emit('onUnloadWithLiveHandles', library, live);
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

  staleCount(kind: HandleKind, reason: StaleReason): number {
    return this.staleCounts[kind][reason];
  }

  /** Every live handle, oldest first, by kind (credentials, contexts, buffers). */
  liveHandles(filter?: (h: TrackedHandle) => boolean): TrackedHandle[] {
    const all = HANDLE_KINDS.flatMap((kind) => [...this.live[kind]]);
    return filter ? all.filter(filter) : all;
  }

  private flag(handle: TrackedHandle, reason: StaleReason, now: number): void {
    handle.stale = reason;
    handle.staleAt = now;
    this.staleCounts[handle.kind][reason]++;
    this.emit('onLeak', handle, reason);
  }

  private close(handle: TrackedHandle): number {
    const { kind } = handle;
    if (this.ageCursor[kind] === handle) this.ageCursor[kind] = handle.next;
    this.live[kind].remove(handle);
    this.group(handle).count--;
    this.handshaking.delete(handle);
    if (handle.stale) this.staleCounts[kind][handle.stale]--;
    const lifetimeSeconds = (performance.now() - handle.createdAt) / 1000;
    if (kind === 'credential' && handle.contexts && handle.contexts.size > 0) {
      this.emit('onOutOfOrderRelease', handle, [...handle.contexts]);
    }
    handle.credential?.contexts?.delete(handle);
    this.emit('onClose', handle, lifetimeSeconds);
    if (handle.stale) this.emit('onStaleReleased', handle, lifetimeSeconds);
    return lifetimeSeconds;
  }

  /** The record itself is kept: no allocation on the release path. */
  private remember(handle: TrackedHandle, releasedBy: string, releaseSite: AllocationSite | undefined): void {
    const { kind } = handle;
    handle.releasedBy = releasedBy;
    handle.releasedAt = performance.now();
    handle.releaseSite = releaseSite;
    const ring = this.releasedRing[kind];
    const slot = this.ringNext[kind];
    const forgotten = ring[slot];
    // Forget the oldest released record, unless its value was re-issued since (then it is gone already).
    if (forgotten && this.records[kind].get(forgotten.key) === forgotten) this.records[kind].delete(forgotten.key);
    ring[slot] = handle;
    this.ringNext[kind] = (slot + 1) % RELEASED_MEMORY;
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
  private emit(event: 'onOpen', handle: TrackedHandle, holder: object | undefined): void;
  private emit(event: 'onClose' | 'onStaleReleased', handle: TrackedHandle, lifetimeSeconds: number): void;
  private emit(event: 'onInvalidRelease', detail: InvalidRelease): void;
  private emit(event: 'onLeak', handle: TrackedHandle, reason: LeakReason): void;
  private emit(event: 'onOutOfOrderRelease', credential: TrackedHandle, contexts: TrackedHandle[]): void;
  private emit(event: 'onForcedRelease', detail: ForcedRelease): void;
  private emit(event: 'onUnloadWithLiveHandles', library: string, live: readonly TrackedHandle[]): void;
  private emit(event: 'onCall', fn: string, status: number, durationSeconds: number, details: CallDetails | undefined): void;
  private emit(event: keyof RegistryListener, a: unknown, b?: unknown, c?: unknown, d?: unknown): void {
    for (const listener of this.listeners) {
      const fn = listener[event] as ((a: unknown, b: unknown, c: unknown, d: unknown) => void) | undefined;
      if (fn === undefined) continue;
      try {
        fn.call(listener, a, b, c, d);
      } catch (err) {
        agentError(`listener.${event}`, err);
      }
    }
  }
}
