/**
 * The one owner of handle state. Hooks tell it what SSPI calls did; detectors tell it what they
 * found; it keeps the live handles and the recently released ones, and tells its listeners (the
 * exporters) what changed. It knows nothing of koffi or Prometheus.
 */
import { performance } from 'node:perf_hooks';
import { agentError } from './diagnostics.js';
import { HandleRecord, type HandleOrigin, type LiveGroup } from './handle-record.js';
import { bindHandlers, type Handler, type ListenerEvent } from './listener-handlers.js';
import { LiveList } from './live-list.js';
import { PendingChanges } from './pending-changes.js';
import type { NegotiatedLabel, NegotiatedPackage } from './sspi/negotiation-tokens.js';
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

export { PENDING_LIMIT } from './pending-changes.js';

const SEC_I_CONTINUE_NEEDED = 0x00090312;
const SEC_I_COMPLETE_NEEDED = 0x00090313;
const SEC_I_COMPLETE_AND_CONTINUE = 0x00090314;

export type { LiveGroup } from './handle-record.js';

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
  private readonly records = perKind(() => new Map<HandleKey, HandleRecord>());
  private readonly live = perKind(() => new LiveList());
  /** kind → package → direction → group: nested, so the hot path builds no key strings. */
  private readonly groups = perKind(() => new Map<string, Map<Direction, LiveGroup>>());
  /** The last RELEASED_MEMORY released records per kind, oldest overwritten first. */
  private readonly releasedRing = perKind(() => new Array<HandleRecord | undefined>(RELEASED_MEMORY));
  private readonly ringNext = perKind(() => 0);
  /** The first live handle not yet checked for age: every live handle before it is stale. */
  private readonly ageCursor: PerKind<HandleRecord | undefined> = perKind(() => undefined);
  /**
   * The first live context not yet checked for an abandoned handshake (contexts before it are older
   * than the limit and were checked). A cursor into the creation-ordered list rather than a Set of
   * contexts mid-handshake: no hashing on the per-handshake path.
   */
  private handshakeCursor: HandleRecord | undefined;
  /** The last origin per kind: handles of one kind from one provider share it (see HandleRecord). */
  private readonly origins = perKind((): HandleOrigin => ({ library: '', releaser: undefined, provider: undefined }));
  private readonly staleCounts = perKind(() => ({ age: 0, abandoned: 0 }) as Record<StaleReason, number>);
  private readonly listeners: RegistryListener[] = [];
  /** Each event's handlers, bound once per subscription (see listener-handlers.ts). */
  private handlers = bindHandlers([]);
  private nextId = 1;
  /** Changes the hooks deferred (`defer`), applied in batches. */
  private readonly pending = new PendingChanges<HandleRegistry>(this);

  subscribe(listener: RegistryListener): () => void {
    this.settle();
    this.listeners.push(listener);
    this.handlers = bindHandlers(this.listeners);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i < 0) return;
      // It hears what happened while it listened.
      this.settle();
      this.listeners.splice(i, 1);
      this.handlers = bindHandlers(this.listeners);
    };
  }

  /**
   * A handle came to life. A live record with the same value means the provider reused a value whose
   * release the agent did not see: the old record is closed so that opened − closed = live holds.
   */
  open(opening: HandleOpening): TrackedHandle {
    this.settle();
    const { kind, key } = opening;
    const now = opening.at ?? performance.now();
    // A live record with this value: its release was missed. (A released one is simply replaced:
    // allocators reuse values, and the value is live again.)
    const missed = this.get(kind, key);
    if (missed) this.close(missed, now);
    const status = opening.status ?? 0;
    const group = this.group(kind, opening.package, opening.direction);
    const handle = new HandleRecord(this.nextId++, key, group, opening.createdBy, now, opening.site, this.origin(opening));
    if (kind === 'context') {
      const details = handle.more();
      details.history = [{ fn: opening.createdBy, status, atMs: 0 }];
      details.handshake = handshakeStateOf(status);
      details.credential = opening.credential;
    }
    this.records[kind].set(key, handle);
    this.live[kind].append(handle);
    if (this.ageCursor[kind] === undefined) this.ageCursor[kind] = handle;
    group.count++;
    if (kind === 'context' && this.handshakeCursor === undefined) this.handshakeCursor = handle;
    const credential = opening.credential;
    if (credential && this.get('credential', credential.key) === credential) {
      (credential as HandleRecord).more().liveContexts++;
      handle.more().counted = true;
    }
    this.dispatch(this.handlers.onOpen, 'onOpen', handle, opening.holder);
    return handle;
  }

  /** The live record of a handle value. */
  get(kind: HandleKind, key: HandleKey): HandleRecord | undefined {
    this.settle();
    const record = this.records[kind].get(key);
    return record !== undefined && record.details?.releasedBy === undefined ? record : undefined;
  }

  /** The record of a released handle, while it is remembered and its value not re-issued. */
  releasedHandle(kind: HandleKind, key: HandleKey): ReleasedHandle | undefined {
    // Waiting changes may release this value, or re-issue one released: applied first when either
    // could change the answer; the common answer (never released, nothing waiting releases it)
    // leaves them waiting. While they are applied, the state so far is the answer, as it was at
    // that call: what later changes do must not leak into it.
    if (this.pending.waiting) {
      const releases = this.pending.effectOn(kind, key);
      if (releases === false) return undefined;
      if (releases === true || this.releasedRecord(kind, key)) this.settle();
    }
    return this.releasedRecord(kind, key);
  }

  private releasedRecord(kind: HandleKind, key: HandleKey): HandleRecord | undefined {
    const record = this.records[kind].get(key);
    return record !== undefined && record.details?.releasedBy !== undefined ? record : undefined;
  }

  /**
   * Defers a change to handle state: `apply(this, item)` runs before anything next reads the state
   * (every public method settles first), when PENDING_LIMIT changes wait, or at the next turn of the
   * event loop, whichever comes first, in the order the changes were deferred. `apply` must not
   * throw (what it throws is counted as an agent error and the next change applied). Before it, the
   * caller tells `expect` what the change does to handle values the guard may ask about.
   */
  defer<T>(apply: (registry: HandleRegistry, item: T) => void, item: T): void {
    this.pending.add(apply, item);
  }

  /**
   * From now on every change is applied as it is deferred: the process is ending (its 'exit' handlers
   * run), and no event-loop turn will come to apply what would wait.
   */
  stopDeferring(): void {
    this.pending.stopDeferring();
  }

  /** `watch(true)` when calls start to wait to be applied, `watch(false)` once none waits. */
  watchWaiting(watch: ((waiting: boolean) => void) | undefined): void {
    this.pending.onWaiting = watch;
  }

  /** Whether deferred changes are being applied now: their events come after the calls returned, outside the callers' context. */
  get applyingDeferred(): boolean {
    return this.pending.isApplying;
  }

  /**
   * The change about to be deferred releases `key` (`releases`), or hands it out (a new handle: live
   * again if it was released): `releasedHandle` answers as if it were applied. Said before `defer`, so
   * that a `defer` applying everything at once also forgets it.
   */
  expect(kind: HandleKind, key: HandleKey, releases: boolean): void {
    this.pending.expect(kind, key, releases);
  }

  /** Applies the deferred changes now. Re-entrant calls (a change's own reads) return at once. */
  settle(): void {
    this.pending.applyAll();
  }

  /**
   * The provider handed out `key` again, in a way that creates nothing the agent tracks (a failed
   * call that wrote a handle anyway): the value is no longer one the agent saw released.
   */
  forgetReleased(kind: HandleKind, key: HandleKey): void {
    this.settle();
    const record = this.records[kind].get(key);
    if (record !== undefined && record.details?.releasedBy !== undefined) this.records[kind].delete(key);
  }

  /** A call on a live context: appended to its history; `handshakeStep` calls also move its handshake. */
  touch(handle: TrackedHandle, fn: string, status: number, handshakeStep: boolean, now = performance.now()): void {
    this.settle();
    const details = (handle as HandleRecord).details;
    const history = details?.history;
    if (!details || !history) return;
    if (history.length >= HISTORY_SIZE) history.shift();
    history.push({ fn, status, atMs: now - handle.createdAt });
    if (!handshakeStep || details.handshake === undefined) return;
    details.handshake = handshakeStateOf(status);
  }

  /**
   * A release call returned `status`. A release of a handle not live counts as `double` when the
   * agent remembers releasing it, `unknown` otherwise. An error status counts as `failed`, and the
   * handle ends all the same: an error from Free/Delete (SEC_E_INVALID_HANDLE, mostly) means the
   * provider holds nothing the app could still release.
   */
  release(kind: HandleKind, key: HandleKey | undefined, status: number, fn: string, site?: AllocationSite, now = performance.now()): ReleaseOutcome {
    this.settle();
    const handle = key === undefined ? undefined : (this.get(kind, key) as HandleRecord | undefined);
    if (!handle) {
      const released = key === undefined ? undefined : this.releasedHandle(kind, key);
      const reason = released ? 'double' : 'unknown';
      this.emit('onInvalidRelease', { kind, reason, fn, released, site });
      return { result: reason, handle: undefined };
    }
    if (status < 0) this.emit('onInvalidRelease', { kind, reason: 'failed', fn, handle, site });
    const lifetimeSeconds = this.close(handle, now);
    this.remember(handle, fn, site, now);
    return status < 0 ? { result: 'failed', handle } : { result: 'released', handle, lifetimeSeconds };
  }

  /** The guard stopped a call on a released handle before it reached the provider. */
  blocked(event: InvalidRelease): void {
    this.settle();
    this.emit('onInvalidRelease', event);
  }

  recordCall(fn: string, status: number, durationSeconds: number, details?: CallDetails): void {
    this.settle();
    this.dispatch(this.handlers.onCall, 'onCall', fn, status, durationSeconds, details);
  }

  /**
   * Whether a call of `fn` must be applied as it returns, not deferred: a listener wants its details
   * or reads the caller's context (spans parented or linked to the app's active span).
   */
  appliesNow(fn: string): boolean {
    if (this.wantsCallDetails(fn)) return true;
    const asks = this.handlers.wantsCallsNow;
    for (let i = 0; i < asks.length; i++) {
      try {
        if (asks[i]!()) return true;
      } catch (err) {
        agentError('listener.wantsCallsNow', err);
      }
    }
    return false;
  }

  /** Whether a listener wants the details of a call of `fn`: the hook builds them only then. */
  wantsCallDetails(fn: string): boolean {
    const asks = this.handlers.wantsCallDetails;
    for (let i = 0; i < asks.length; i++) {
      try {
        if (asks[i]!(fn)) return true;
      } catch (err) {
        agentError('listener.wantsCallDetails', err);
      }
    }
    return false;
  }

  /** The JS object holding a live handle was garbage-collected: nobody can release it any more. */
  markCollected(handle: TrackedHandle): void {
    this.settle();
    if (handle.collected || this.get(handle.kind, handle.key) !== handle) return;
    (handle as HandleRecord).more().collected = true;
    this.emit('onLeak', handle, 'collected');
  }

  /**
   * Flags live handles older than their limits, and contexts whose handshake is unfinished after
   * `limits.handshake`, each once. Walks only what it flags (plus one handle per list), never the
   * whole registry: the live lists are in creation order, and a cursor marks where the last check
   * stopped.
   */
  flagStale(limits: StaleLimits, now = performance.now()): void {
    this.settle();
    for (const kind of HANDLE_KINDS) {
      const maxAge = limits[kind];
      if (maxAge <= 0) continue;
      let h: HandleRecord | undefined = this.ageCursor[kind];
      while (h && now - h.createdAt > maxAge) {
        if (!h.stale) this.flag(h, 'age', now);
        h = h.next;
      }
      this.ageCursor[kind] = h;
    }
    if (limits.handshake <= 0) return;
    let h = this.handshakeCursor;
    while (h && now - h.createdAt > limits.handshake) {
      if (h.handshake === 'in-progress' && !h.stale) this.flag(h, 'abandoned', now);
      h = h.next;
    }
    this.handshakeCursor = h;
  }

  /** Declares every live handle leaked for `reason` (they stay live: nothing released them). */
  declareLeaks(reason: LeakReason): TrackedHandle[] {
    this.settle();
    const leaked = this.liveHandles();
    for (const handle of leaked) this.emit('onLeak', handle, reason);
    return leaked;
  }

  /**
   * What a Negotiate context runs, as its tokens show it: `pkg` when a token named it (a proposal
   * until `settled`). Settled, listeners hear it once, `unknown` when no token named one.
   */
  negotiate(handle: TrackedHandle, pkg: NegotiatedPackage | undefined, settled: boolean): void {
    this.settle();
    const details = (handle as HandleRecord).more();
    if (details.negotiationSettled) return;
    if (pkg !== undefined) details.negotiated = pkg;
    if (!settled) return;
    details.negotiationSettled = true;
    this.emit('onNegotiated', handle, details.negotiated ?? 'unknown');
  }

  /** The agent released `handle` itself (forced cleanup); it is closed whatever the status. */
  forcedRelease(handle: TrackedHandle, status: number, trigger: string): ForcedRelease {
    this.settle();
    const event: ForcedRelease = { handle, status, result: status < 0 ? 'failed' : 'released', trigger };
    if (this.get(handle.kind, handle.key) === handle) {
      const now = performance.now();
      this.close(handle as HandleRecord, now);
      this.remember(handle as HandleRecord, `${trigger} cleanup`, undefined, now);
    }
    this.emit('onForcedRelease', event);
    return event;
  }

  /**
   * A later InitializeSecurityContext / AcceptSecurityContext call wrote a different value into the
   * context handle: the record answers to the new value from now on. Windows keeps the value; Wine's
   * secur32 issues a new one on every successful call, and the app must use (and delete) that one.
   */
  rekey(handle: TrackedHandle, key: HandleKey, now = performance.now()): void {
    this.settle();
    const records = this.records[handle.kind];
    if (handle.key === key || this.get(handle.kind, handle.key) !== handle) return;
    const clash = this.get(handle.kind, key);
    if (clash) this.close(clash as HandleRecord, now);
    records.delete(handle.key);
    (handle as HandleRecord).key = key;
    records.set(key, handle as HandleRecord);
  }

  unloadedWithLiveHandles(library: string, live: readonly TrackedHandle[]): void {
    this.settle();
    this.emit('onUnloadWithLiveHandles', library, live);
  }

  liveCount(kind: HandleKind): number {
    this.settle();
    return this.live[kind].size;
  }

  /** O(1): the head of the creation-ordered list. */
  oldest(kind: HandleKind): TrackedHandle | undefined {
    this.settle();
    return this.live[kind].oldest();
  }

  /** Live counts by metric labels; the number of groups is bounded by the label values, not by handles. */
  liveGroups(): LiveGroup[] {
    this.settle();
    return HANDLE_KINDS.flatMap((kind) => [...this.groups[kind].values()].flatMap((byDirection) => [...byDirection.values()]));
  }

  staleCount(kind: HandleKind, reason: StaleReason): number {
    this.settle();
    return this.staleCounts[kind][reason];
  }

  /** Every live handle, oldest first, by kind (credentials, contexts, buffers). */
  liveHandles(filter?: (h: TrackedHandle) => boolean): TrackedHandle[] {
    this.settle();
    const all = HANDLE_KINDS.flatMap((kind) => [...this.live[kind]]);
    return filter ? all.filter(filter) : all;
  }

  private flag(handle: HandleRecord, reason: StaleReason, now: number): void {
    const details = handle.more();
    details.stale = reason;
    details.staleAt = now;
    this.staleCounts[handle.kind][reason]++;
    this.emit('onLeak', handle, reason);
  }

  private close(handle: HandleRecord, now: number): number {
    const { kind } = handle;
    // Cursors move on before the list unlinks the handle (and clears its links).
    if (this.ageCursor[kind] === handle) this.ageCursor[kind] = handle.next;
    if (this.handshakeCursor === handle) this.handshakeCursor = handle.next;
    this.live[kind].remove(handle);
    handle.group.count--;
    if (handle.stale) this.staleCounts[kind][handle.stale]--;
    const lifetimeSeconds = (now - handle.createdAt) / 1000;
    const details = handle.details;
    if (kind === 'credential' && details && details.liveContexts > 0) {
      // Rare (a misuse): the contexts are found by walking the live ones.
      this.emit('onOutOfOrderRelease', handle, [...this.live.context].filter((c) => c.credential === handle));
    }
    if (details?.counted) {
      details.counted = false;
      (handle.credential as HandleRecord).details!.liveContexts--;
    }
    this.dispatch(this.handlers.onClose, 'onClose', handle, lifetimeSeconds);
    if (handle.stale) this.emit('onStaleReleased', handle, lifetimeSeconds);
    return lifetimeSeconds;
  }

  /** The record itself is kept: no allocation on the release path. */
  private remember(handle: HandleRecord, releasedBy: string, releaseSite: AllocationSite | undefined, now: number): void {
    const { kind } = handle;
    const details = handle.more();
    details.releasedBy = releasedBy;
    details.releasedAt = now;
    details.releaseSite = releaseSite;
    const ring = this.releasedRing[kind];
    const slot = this.ringNext[kind];
    const forgotten = ring[slot];
    // Forget the oldest released record, unless its value was re-issued since (then it is gone already).
    if (forgotten && this.records[kind].get(forgotten.key) === forgotten) this.records[kind].delete(forgotten.key);
    ring[slot] = handle;
    this.ringNext[kind] = (slot + 1) % RELEASED_MEMORY;
  }

  private group(kind: HandleKind, pkg: string, direction: Direction): LiveGroup {
    const byPackage = this.groups[kind];
    let byDirection = byPackage.get(pkg);
    if (!byDirection) {
      byDirection = new Map();
      byPackage.set(pkg, byDirection);
    }
    let group = byDirection.get(direction);
    if (!group) {
      group = { kind, package: pkg, direction, count: 0 };
      byDirection.set(direction, group);
    }
    return group;
  }

  /** The shared origin object for this opening: the last one of its kind, or a new one when it differs. */
  private origin(opening: HandleOpening): HandleOrigin {
    const last = this.origins[opening.kind];
    if (last.library === opening.library && last.releaser === opening.releaser && last.provider === opening.provider) return last;
    const origin: HandleOrigin = { library: opening.library, releaser: opening.releaser, provider: opening.provider };
    this.origins[opening.kind] = origin;
    return origin;
  }

  /** Fixed arity rather than rest arguments: this runs on every SSPI call and should not allocate. */
  private emit(event: 'onOpen', handle: TrackedHandle, holder: object | undefined): void;
  private emit(event: 'onClose' | 'onStaleReleased', handle: TrackedHandle, lifetimeSeconds: number): void;
  private emit(event: 'onInvalidRelease', detail: InvalidRelease): void;
  private emit(event: 'onLeak', handle: TrackedHandle, reason: LeakReason): void;
  private emit(event: 'onOutOfOrderRelease', credential: TrackedHandle, contexts: TrackedHandle[]): void;
  private emit(event: 'onForcedRelease', detail: ForcedRelease): void;
  private emit(event: 'onUnloadWithLiveHandles', library: string, live: readonly TrackedHandle[]): void;
  private emit(event: 'onNegotiated', handle: TrackedHandle, negotiated: NegotiatedLabel): void;
  private emit(event: 'onCall', fn: string, status: number, durationSeconds: number, details: CallDetails | undefined): void;
  private emit(event: ListenerEvent, a: unknown, b?: unknown, c?: unknown, d?: unknown): void {
    this.dispatch(this.handlers[event], event, a, b, c, d);
  }

  /** The per-call events name their handler list directly: a keyed lookup by event name is not free. */
  private dispatch(handlers: readonly Handler[], event: ListenerEvent, a: unknown, b?: unknown, c?: unknown, d?: unknown): void {
    for (let i = 0; i < handlers.length; i++) {
      try {
        handlers[i]!(a, b, c, d);
      } catch (err) {
        agentError(`listener.${event}`, err);
      }
    }
  }
}
