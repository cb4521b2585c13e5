/**
 * The handle state itself, synchronous: a record per handle value, the live handles in creation order,
 * their counts by metric labels, the released handles the guard remembers, stale marks. It applies
 * no log and tells no listener: the registry (registry.ts) applies the call log before it hands
 * the store to a reader (`settled()`) or writes to it outside the log, and says what changed.
 */
import { HandleRecord } from './handle-record.js';
import { HandleClass, type LiveGroup } from './record-side.js';
import { OVER_BUDGET } from './stacks.js';
import { LiveGroups } from './live-groups.js';
import { LiveList } from './live-list.js';
import { RecordMap } from './record-map.js';
import { ReleasedRing } from './released-ring.js';
import { StaleMarks, type StaleLimits } from './stale-marks.js';
import { handshakeState } from '../sspi/handshake.js';
import { HANDLE_KINDS, perKind } from '../types.js';
import type { AllocationSite, HandleKey, HandleKind, HandleOpening, StaleReason, TrackedHandle } from '../types.js';

/** What closing a live handle did. */
export interface Closed {
  lifetimeSeconds: number;
  /** A credential freed while contexts made from it are live: those contexts (a misuse). */
  outOfOrder: TrackedHandle[] | undefined;
}

/** What readers see of the handle state (scrape, report, snapshot, API, the rules): `HandleRegistry.settled()`. */
export interface HandleView {
  /** The live record of a handle value. */
  get(kind: HandleKind, key: HandleKey): TrackedHandle | undefined;
  liveCount(kind: HandleKind): number;
  /** O(1): the head of the creation-ordered list. */
  oldest(kind: HandleKind): TrackedHandle | undefined;
  /** Live counts by metric labels; the number of groups is bounded by the label values, not by handles. */
  liveGroups(): LiveGroup[];
  staleCount(kind: HandleKind, reason: StaleReason): number;
  /** Every live handle, oldest first, by kind (credentials, contexts, buffers); those `filter` keeps, if given. */
  liveHandles(filter?: (handle: TrackedHandle) => boolean): TrackedHandle[];
}

export class HandleStore implements HandleView {
  /**
   * Every handle value's record, live or released: one entry per value, overwritten when the value is
   * re-issued and deleted only when a released record is forgotten. Providers reuse freed values at
   * once, and deleting then re-adding the same key leaves deleted entries in V8's hash chains that
   * every later lookup walks — at a million live handles that cost more than the SSPI call.
   */
  private readonly records = perKind(() => new RecordMap((record) => this.ring.drop(record)));
  private readonly live = perKind(() => new LiveList());
  private readonly groups = new LiveGroups();
  private readonly ring = new ReleasedRing(this.records);
  private readonly stale = new StaleMarks();
  /** The classes of handles made so far, per kind (see HandleClass): a few each. */
  private readonly classes = perKind((): HandleClass[] => []);
  private nextId = 1;

  /** A new live record (the value's live record, if any, must be closed first). */
  add(opening: HandleOpening, now: number): HandleRecord {
    const { kind, key } = opening;
    const status = opening.status ?? 0;
    const cls = this.classOf(opening);
    const handle = new HandleRecord(this.nextId++, key, cls, now, opening.site);
    if (kind === 'context') {
      const details = handle.more();
      details.history = [{ fn: opening.createdBy, status, atMs: 0 }];
      details.handshake = handshakeState(status);
      details.credential = opening.credential;
    }
    this.records[kind].set(key, handle);
    this.live[kind].append(handle);
    this.stale.opened(handle, kind);
    cls.group.count++;
    const credential = opening.credential;
    if (credential && this.get('credential', credential.key) === credential) {
      (credential as HandleRecord).more().liveContexts++;
      handle.more().counted = true;
    }
    return handle;
  }

  /** The live record of a handle value. */
  get(kind: HandleKind, key: HandleKey): HandleRecord | undefined {
    const record = this.records[kind].get(key);
    return record !== undefined && !record.isReleased ? record : undefined;
  }

  /** The record of a released handle, while it is remembered and its value not re-issued. */
  released(kind: HandleKind, key: HandleKey): HandleRecord | undefined {
    const record = this.records[kind].get(key);
    return record !== undefined && record.isReleased ? record : undefined;
  }

  /** The value is live again in a way the agent does not track: forget its released record. */
  forgetReleased(kind: HandleKind, key: HandleKey): void {
    if (this.released(kind, key)) this.records[kind].delete(key);
  }

  /** Takes a live handle out of the live lists and counts. */
  close(handle: HandleRecord, now: number): Closed {
    const group = handle.group;
    const kind = group.kind;
    this.stale.closing(handle, kind);
    this.live[kind].remove(handle);
    group.count--;
    const details = handle.details;
    // Rare (a misuse): the contexts are found by walking the live ones.
    const outOfOrder = kind === 'credential' && details && details.liveContexts > 0 ? [...this.live.context].filter((c) => c.credential === handle) : undefined;
    if (details?.counted) {
      details.counted = false;
      (handle.credential as HandleRecord).details!.liveContexts--;
    }
    return { lifetimeSeconds: (now - handle.createdAt) / 1000, outOfOrder };
  }

  /** A closed handle is remembered as released: the record itself, kept in the ring. */
  remember(handle: HandleRecord, releasedBy: string, releaseSite: AllocationSite | undefined, now: number): void {
    this.ring.add(handle, handle.end(releasedBy, now, releaseSite));
  }

  /** The record answers to `key` from now on (the value at `key`, if live, must be closed first). */
  rekey(handle: HandleRecord, key: HandleKey): void {
    const records = this.records[handle.kind];
    records.delete(handle.key);
    handle.setKey(key);
    records.set(key, handle);
  }

  /** Marks each live handle that turned stale since the last check, and hands it to `flag`. */
  checkStale(limits: StaleLimits, now: number, flag: (handle: HandleRecord, reason: StaleReason) => void): void {
    this.stale.check(limits, now, flag);
  }

  liveCount(kind: HandleKind): number {
    return this.live[kind].size;
  }

  /** O(1): the head of the creation-ordered list. */
  oldest(kind: HandleKind): TrackedHandle | undefined {
    return this.live[kind].oldest();
  }

  liveGroups(): LiveGroup[] {
    return this.groups.all();
  }

  staleCount(kind: HandleKind, reason: StaleReason): number {
    return this.stale.count(kind, reason);
  }

  liveHandles(filter?: (handle: TrackedHandle) => boolean): TrackedHandle[] {
    const all = HANDLE_KINDS.flatMap((kind) => [...this.live[kind]]);
    return filter ? all.filter(filter) : all;
  }

  /** The class of this opening's handle: one seen before, or a new one. */
  private classOf(opening: HandleOpening): HandleClass {
    const classes = this.classes[opening.kind];
    const site = sharedSite(opening.site);
    for (let i = 0; i < classes.length; i++) {
      const c = classes[i]!;
      if (
        c.createdBy === opening.createdBy &&
        c.group.package === opening.package &&
        c.group.direction === opening.direction &&
        c.library === opening.library &&
        c.releaser === opening.releaser &&
        c.provider === opening.provider &&
        c.site === site
      ) {
        return c;
      }
    }
    const { createdBy, library, releaser, provider } = opening;
    const group = this.groups.of(opening.kind, opening.package, opening.direction);
    const made = new HandleClass(group, createdBy, library, releaser, provider, site);
    classes.push(made);
    return made;
  }
}

/** The site an opening's handle can share with its class: none, or the mark of a stack not taken. */
function sharedSite(site: AllocationSite | undefined): AllocationSite | undefined {
  return site === OVER_BUDGET ? OVER_BUDGET : undefined;
}
