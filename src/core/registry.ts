/**
 * The one owner of handle state. The lifecycle rules tell it what SSPI calls did, in call order, from
 * its call log; detectors and the cleanup tell it what they found or did; it keeps the live handles
 * and the recently released ones in its store, and tells its listeners (the exporters) what changed.
 * Readers get the store through `settled()`, after every waiting call is applied. It knows nothing of
 * koffi or Prometheus.
 */
import * as clock from './clock.js';
import type { HandleRecord } from './handle-record.js';
import type { LiveGroup } from './record-side.js';
import { CallLog } from './log/call-log.js';
import { BatchTally, type Tallied } from './batch-tally.js';
import { HandleStore, type HandleView } from './handle-store.js';
import { RegistryEvents, type RegistryListener } from './registry-events.js';
import type { NegotiatedPackage } from '../sspi/negotiation-tokens.js';
import { handshakeState } from '../sspi/handshake.js';
import type { StaleLimits } from './stale-marks.js';
import type { AllocationSite, CallDetails, CallerFacts, ForcedRelease, HandleKey, HandleKind, HandleOpening, InvalidRelease, InvalidReleaseReason, LeakReason, ReleasedHandle, TrackedHandle } from '../types.js';


export { HANDLE_KINDS } from '../types.js';
export type { StaleLimits } from './stale-marks.js';
export type { LiveGroup } from './record-side.js';
export type { HandleView } from './handle-store.js';
export { RELEASED_MEMORY } from './released-ring.js';
export { PENDING_LIMIT } from './log/call-log.js';

/** How many calls a context's history keeps: enough for a handshake and what went wrong after. */
export const HISTORY_SIZE = 8;

/** What a release call did to the registry. */
export type ReleaseOutcome =
  | { result: 'released'; handle: TrackedHandle; lifetimeSeconds: number }
  | { result: InvalidReleaseReason; handle: TrackedHandle | undefined };

export class HandleRegistry {
  private readonly store = new HandleStore();
  private readonly events = new RegistryEvents();
  /**
   * The calls the hooks observed, waiting to be applied in a batch (`log.append`): applied before
   * anything next reads the store (`settled()`) or writes to it from outside the log, when
   * PENDING_LIMIT wait, or at the next turn of the event loop, in call order.
   */
  readonly log = new CallLog<HandleRegistry>(this, () => this.tellBatch());
  /** What happened since the metrics were last told (the batch events, once per batch and label set). */
  private readonly calls = new BatchTally<string, number>();
  private readonly opens = new BatchTally<HandleKind, string>();
  private readonly closes = new BatchTally<HandleKind, string>();
  private readonly tellCalls = (e: Tallied<string, number>) => this.events.emit('onCalls', e.a, e.b, e.count, e.values);
  private readonly tellOpens = (e: Tallied<HandleKind, string>) => this.events.emit('onOpens', e.a, e.b, e.count);
  private readonly tellCloses = (e: Tallied<HandleKind, string>) => this.events.emit('onCloses', e.a, e.b, e.count, e.values);

  subscribe(listener: RegistryListener): () => void {
    this.settled();
    this.events.add(listener);
    return () => {
      if (!this.events.has(listener)) return;
      // It hears what happened while it listened.
      this.settled();
      this.events.remove(listener);
    };
  }

  /**
   * The handle state with every waiting call applied: the one way in for what reads it, and the
   * first step of every change made from outside the log. Re-entrant calls (the rules' own reads
   * while the log is applied) get the state as applied so far, which is the state at that call.
   */
  settled(): HandleView {
    this.log.applyAll();
    return this.store;
  }

  /** The caller's moment of a call that returned at `at`, when a listener's capture wants it (see `RegistryListener.captures`). */
  captureCaller(at: number): CallerFacts | undefined {
    return this.events.captureCaller(at);
  }

  /** The caller's context alone, when a listener's capture wants it: a column of the call's row. */
  captureContext(): unknown {
    return this.events.captureContext();
  }

  /** Whether a captured call of `fn` comes with its details. */
  wantsDetails(fn: string): boolean {
    return this.events.wantsDetails(fn);
  }

  // The lifecycle rules' writes: applied in call order, from the log, so they do not settle again. Nothing else calls them: a write from outside the
  // log while calls wait would land before those calls.

  /**
   * A handle came to life. A live record with the same value means the provider reused a value whose
   * release the agent did not see: the old record is closed so that opened − closed = live holds.
   * (A released one is simply replaced: allocators reuse values, and the value is live again.)
   */
  open(opening: HandleOpening): TrackedHandle {
    const now = opening.at ?? clock.now();
    const missed = this.store.get(opening.kind, opening.key);
    if (missed) this.close(missed, now, opening.caller);
    const handle = this.store.add(opening, now);
    this.events.emit('onOpen', handle, opening.holder, opening.caller);
    this.opens.add(opening.kind, opening.package, 0);
    this.tellOutsideBatch();
    return handle;
  }

  /** The record of a released handle, while it is remembered and its value not re-issued. */
  releasedHandle(kind: HandleKind, key: HandleKey): ReleasedHandle | undefined {
    // Waiting changes may release this value, or re-issue one released: applied first when either
    // could change the answer; the common answer (never released, nothing waiting releases it)
    // leaves them waiting. While they are applied, the state so far is the answer, as it was at
    // that call: what later changes do must not leak into it.
    if (this.log.waiting) {
      const releases = this.log.effectOn(kind, key);
      if (releases === false) return undefined;
      if (releases === true || this.store.released(kind, key)) this.log.applyAll();
    }
    return this.store.released(kind, key);
  }

  /**
   * The provider handed out `key` again, in a way that creates nothing the agent tracks (a failed
   * call that wrote a handle anyway): the value is no longer one the agent saw released.
   */
  forgetReleased(kind: HandleKind, key: HandleKey): void {
    this.store.forgetReleased(kind, key);
  }

  /** A call on a live context: appended to its history; `handshakeStep` calls also move its handshake. */
  touch(handle: TrackedHandle, fn: string, status: number, handshakeStep: boolean, now = clock.now()): void {
    const details = (handle as HandleRecord).details;
    const history = details?.history;
    if (!details || !history) return;
    if (history.length >= HISTORY_SIZE) history.shift();
    history.push({ fn, status, atMs: now - handle.createdAt });
    if (!handshakeStep || details.handshake === undefined) return;
    details.handshake = handshakeState(status);
  }

  /**
   * A release call returned `status`. A release of a handle not live counts as `double` when the
   * agent remembers releasing it, `unknown` otherwise. An error status counts as `failed`, and the
   * handle ends all the same: an error from Free/Delete (SEC_E_INVALID_HANDLE, mostly) means the
   * provider holds nothing the app could still release.
   */
  release(
    kind: HandleKind,
    key: HandleKey | undefined,
    status: number,
    fn: string,
    site?: AllocationSite,
    now = clock.now(),
    caller?: CallerFacts,
  ): ReleaseOutcome {
    const handle = key === undefined ? undefined : this.store.get(kind, key);
    if (!handle) {
      const released = key === undefined ? undefined : this.store.released(kind, key);
      const reason = released ? 'double' : 'unknown';
      this.events.emit('onInvalidRelease', { kind, reason, fn, released, site, caller });
      return { result: reason, handle: undefined };
    }
    if (status < 0) this.events.emit('onInvalidRelease', { kind, reason: 'failed', fn, handle, site, caller });
    const lifetimeSeconds = this.close(handle, now, caller);
    this.store.remember(handle, fn, site, now);
    return status < 0 ? { result: 'failed', handle } : { result: 'released', handle, lifetimeSeconds };
  }

  /** A call: heard by itself (`onCall`), and counted for its batch's `onCalls`. */
  recordCall(fn: string, status: number, durationSeconds: number, details?: CallDetails, caller?: CallerFacts): void {
    this.events.emit('onCall', fn, status, durationSeconds, details, caller);
    this.calls.add(fn, status, durationSeconds);
    this.tellOutsideBatch();
  }

  /** The batch events for what the tallies hold. */
  private tellBatch(): void {
    if (this.calls.pending) this.calls.flush(this.tellCalls);
    if (this.opens.pending) this.opens.flush(this.tellOpens);
    if (this.closes.pending) this.closes.flush(this.tellCloses);
  }

  /** A change made outside a batch (a stopped call, a detector's, the cleanup's) is told at once. */
  private tellOutsideBatch(): void {
    if (!this.log.applying) this.tellBatch();
  }

  // Everything else comes from outside the log, after the calls waiting in it: applied first.

  /** The guard stopped a call on a released handle before it reached the provider. */
  blocked(event: InvalidRelease): void {
    this.settled();
    this.events.emit('onInvalidRelease', event);
  }

  /** The JS object holding a live handle was garbage-collected: nobody can release it any more. */
  markCollected(handle: TrackedHandle): void {
    if (handle.collected || this.settled().get(handle.kind, handle.key) !== handle) return;
    (handle as HandleRecord).more().collected = true;
    this.events.emit('onLeak', handle, 'collected');
  }

  /** Flags live handles older than their limits, and contexts whose handshake is unfinished after `limits.handshake`, each once (see StaleMarks). */
  flagStale(limits: StaleLimits, now = clock.now()): void {
    this.settled();
    this.store.checkStale(limits, now, (handle, reason) => this.events.emit('onLeak', handle, reason));
  }

  /** Declares every live handle leaked for `reason` (they stay live: nothing released them). */
  declareLeaks(reason: LeakReason): TrackedHandle[] {
    const leaked = this.settled().liveHandles();
    for (const handle of leaked) this.events.emit('onLeak', handle, reason);
    return leaked;
  }

  /**
   * What a Negotiate context runs, as its tokens show it: `pkg` when a token named it (a proposal
   * until `settled`). Settled, listeners hear it once, `unknown` when no token named one.
   */
  negotiate(handle: TrackedHandle, pkg: NegotiatedPackage | undefined, settled: boolean): void {
    const details = (handle as HandleRecord).more();
    if (details.negotiationSettled) return;
    if (pkg !== undefined) details.negotiated = pkg;
    if (!settled) return;
    details.negotiationSettled = true;
    this.events.emit('onNegotiated', handle, details.negotiated ?? 'unknown');
  }

  /**
   * The agent released `handle` itself (forced cleanup); it is closed whatever the status. A cleanup
   * the app asked for (the API, in a request) is that caller's: its findings are children of it.
   */
  forcedRelease(handle: TrackedHandle, status: number, trigger: string): ForcedRelease {
    const event: ForcedRelease = { handle, status, result: status < 0 ? 'failed' : 'released', trigger };
    if (this.settled().get(handle.kind, handle.key) === handle) {
      const now = clock.now();
      this.close(handle as HandleRecord, now, this.events.captureCaller(now));
      this.store.remember(handle as HandleRecord, `${trigger} cleanup`, undefined, now);
    }
    this.events.emit('onForcedRelease', event);
    return event;
  }

  /**
   * A later InitializeSecurityContext / AcceptSecurityContext call wrote a different value into the
   * context handle: the record answers to the new value from now on. Windows keeps the value; Wine's
   * secur32 issues a new one on every successful call, and the app must use (and delete) that one.
   */
  rekey(handle: TrackedHandle, key: HandleKey, now = clock.now()): void {
    if (handle.key === key || this.store.get(handle.kind, handle.key) !== handle) return;
    const clash = this.store.get(handle.kind, key);
    if (clash) this.close(clash, now);
    this.store.rekey(handle as HandleRecord, key);
  }

  unloadedWithLiveHandles(library: string, live: readonly TrackedHandle[]): void {
    this.settled();
    this.events.emit('onUnloadWithLiveHandles', library, live);
  }

  /** Closes a live handle in the store and tells the listeners. */
  private close(handle: HandleRecord, now: number, caller?: CallerFacts): number {
    const { lifetimeSeconds, outOfOrder } = this.store.close(handle, now);
    if (outOfOrder) this.events.emit('onOutOfOrderRelease', handle, outOfOrder, caller);
    this.events.emit('onClose', handle, lifetimeSeconds);
    const group = handle.group;
    this.closes.add(group.kind, group.package, lifetimeSeconds);
    this.tellOutsideBatch();
    if (handle.stale) this.events.emit('onStaleReleased', handle, lifetimeSeconds);
    return lifetimeSeconds;
  }
}
