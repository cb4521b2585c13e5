/**
 * The call log: every SSPI call the hooks observed and the rules have not applied yet, one row each in
 * preallocated columns, applied in call order in a batch before anything next reads the registry's
 * state, when PENDING_LIMIT rows wait, or at the next turn of the event loop. It also answers the one
 * question that cannot wait: what the waiting rows do to a handle value the double-free guard asks about.
 *
 * Columns rather than an object per call: a row costs typed-array writes (function, status, times,
 * handle keys, flags) and, only for what must stay an object, a reference slot (the JS holder the GC
 * detector watches, a captured stack, the caller's OpenTelemetry context, the buffers a call
 * allocated). Applied in a batch, the rules' code and data stay warm: applying each call between two
 * native SSPI calls ran them cold, at three to ten times their warm cost.
 */
import { agentError } from '../../diagnostics.js';
import { sspiFunctionById, type SspiFunction } from '../../sspi/functions.js';
import type { TokenVerdict } from '../../sspi/negotiation-tokens.js';
import type { AllocationSite, CallerFacts, HandleKind, ReadHandle } from '../../types.js';
import { InternTable } from './intern-table.js';
import { KeyColumn, type KeyColumnName } from './key-column.js';
import { LoggedCall } from './logged-call.js';
import { callerAt, type AllocatedBuffer, type ObservedCall, type Provider } from '../observed-call.js';
import { ReleaseFilter } from './release-filter.js';
import { handsOutBuffers, rowEffect } from './row-effect.js';

/** How many rows may wait before they are applied on the spot. */
export const PENDING_LIMIT = 256;

/** Applies one logged call (read through `call`, valid only during the call) to `target`. */
export type Apply<T> = (target: T, call: ObservedCall, caller: CallerFacts | undefined) => void;

// Node's own, not a global an app's fake timers may have replaced; taken from the built-in module,
// not imported: the namespace an ES import builds reads `promises` too, which loads node:timers/promises.
const { setImmediate } = process.getBuiltinModule('node:timers');

const NOT_ISSUED = -1;
const NO_USE = -1;

export class CallLog<T> {
  private count = 0;
  private busy = false;
  private scheduled = false;
  /** Cleared at the process end: no event-loop turn would come to apply what waits. */
  private deferring = true;

  private readonly fnId = new Uint16Array(PENDING_LIMIT);
  private readonly providerId = new Uint16Array(PENDING_LIMIT);
  private readonly applyId = new Uint8Array(PENDING_LIMIT);
  private readonly packageId = new Uint16Array(PENDING_LIMIT);
  private readonly verdictId = new Uint8Array(PENDING_LIMIT);
  private readonly status = new Int32Array(PENDING_LIMIT);
  private readonly use = new Float64Array(PENDING_LIMIT);
  private readonly duration = new Float64Array(PENDING_LIMIT);
  private readonly at = new Float64Array(PENDING_LIMIT);
  private readonly issuedAt = new Float64Array(PENDING_LIMIT);
  private readonly keys: Record<KeyColumnName, KeyColumn> = {
    credential: new KeyColumn(PENDING_LIMIT),
    context: new KeyColumn(PENDING_LIMIT),
    buffer: new KeyColumn(PENDING_LIMIT),
    out: new KeyColumn(PENDING_LIMIT),
    failedOut: new KeyColumn(PENDING_LIMIT),
  };
  // The reference columns: what must stay an object.
  private readonly holder: (object | undefined)[] = new Array(PENDING_LIMIT).fill(undefined);
  private readonly site: (AllocationSite | undefined)[] = new Array(PENDING_LIMIT).fill(undefined);
  private readonly callerContext: unknown[] = new Array(PENDING_LIMIT).fill(undefined);
  private readonly buffers: (readonly AllocatedBuffer[] | undefined)[] = new Array(PENDING_LIMIT).fill(undefined);

  private readonly providers = new InternTable<Provider>();
  private readonly appliers = new InternTable<Apply<T>>();
  private readonly packages = new InternTable<string>();
  private readonly verdicts = new InternTable<TokenVerdict>();
  /** Which handle values the waiting rows release or hand out, for the guard's question. */
  private readonly filter = new ReleaseFilter();
  /** The row the rules read while it is applied. */
  private readonly cursor = new LoggedCall();

  private readonly applySoon = () => {
    this.scheduled = false;
    this.applyAll();
  };

  /** Told when rows start to wait, and when none waits any more (a worker's slot says so to the main thread). */
  onWaiting: ((waiting: boolean) => void) | undefined;

  /** `target`: what the rows are applied to, handed to each row's `Apply`; `afterBatch`: told once a batch is applied. */
  constructor(
    private readonly target: T,
    private readonly afterBatch?: () => void,
  ) {}

  /** Rows are being applied now: what they cause is part of this batch. */
  get applying(): boolean {
    return this.busy;
  }

  /** Whether anything waits, outside of applying it. */
  get waiting(): boolean {
    return this.count !== 0 && !this.busy;
  }

  /**
   * Logs `call`, returned at `at`, to be applied by `apply` in call order. `context`: the caller's, when
   * a listener captured it (an SDK is there to make its span); undefined otherwise.
   */
  append(call: ObservedCall, apply: Apply<T>, context: unknown, at: number): void {
    const row = this.count;
    if (row >= PENDING_LIMIT) {
      // Only while a full batch is applied (a row's own effects made a call): no room, applied now.
      apply(this.target, call, callerAt(context, at));
      return;
    }
    const fn = call.fn;
    this.fnId[row] = fn.id;
    this.providerId[row] = this.providers.id(call.provider);
    this.applyId[row] = this.appliers.id(apply);
    this.packageId[row] = this.packages.id(call.packageName);
    this.verdictId[row] = this.verdicts.id(call.tokenVerdict);
    this.status[row] = call.status;
    this.use[row] = call.credentialUse ?? NO_USE;
    this.duration[row] = call.durationSeconds;
    this.at[row] = at;
    this.issuedAt[row] = call.issuedAt ?? NOT_ISSUED;
    const keys = this.keys;
    keys.credential.set(row, call.credential);
    keys.context.set(row, call.context);
    keys.buffer.set(row, call.buffer);
    keys.out.set(row, call.outHandle);
    keys.failedOut.set(row, call.failedOutHandle);
    this.holder[row] = call.outHolder;
    this.site[row] = call.site;
    this.callerContext[row] = context;
    this.buffers[row] = call.outBuffers;
    this.noteEffects(row);
    this.count = row + 1;
    if (row === 0) this.onWaiting?.(true);
    if (this.count >= PENDING_LIMIT || !this.deferring) this.applyAll();
    else if (!this.scheduled) this.schedule();
  }

  /**
   * What the waiting rows do to `key`: the last of them to touch it releases it (true) or hands it
   * out (false: providers re-issue a freed value at once), or none touches it (undefined). A filter
   * answers "none" for most values, and the latest effect on the kind answers for the value it was
   * on, without looking at a row.
   */
  effectOn(kind: HandleKind, key: ReadHandle): boolean | undefined {
    if (this.count === 0 || !this.filter.mayHold(kind, key)) return undefined;
    const latest = this.filter.latestEffect(kind, key);
    if (latest !== undefined) return latest;
    for (let row = this.count - 1; row >= 0; row--) {
      const effect = this.effectOfRow(row, kind, key);
      if (effect !== undefined) return effect;
    }
    return undefined;
  }

  /** Applies what waits, in order. Re-entrant calls (a row's own reads) return at once. */
  applyAll(): void {
    if (this.count === 0 || this.busy) return;
    this.busy = true;
    const cursor = this.cursor;
    try {
      // Rows added while applying (none expected) are appended and applied in this loop.
      for (let row = 0; row < this.count; row++) {
        this.load(cursor, row);
        try {
          this.appliers.values[this.applyId[row]!]!(this.target, cursor, callerAt(this.callerContext[row], this.at[row]!));
        } catch (err) {
          agentError('registry.settle', err);
        }
      }
    } finally {
      cursor.forget();
      this.clear();
      this.busy = false;
      try {
        this.afterBatch?.();
      } catch (err) {
        agentError('registry.settle', err);
      }
      this.onWaiting?.(false);
    }
  }

  /** From now on every call is applied as it is logged (the process is ending). */
  stopDeferring(): void {
    this.deferring = false;
    this.applyAll();
  }

  /** Puts `row`'s facts in the cursor's fields. */
  private load(call: LoggedCall, row: number): void {
    const keys = this.keys;
    const issued = this.issuedAt[row]!;
    const use = this.use[row]!;
    call.fn = this.fnAt(row);
    call.provider = this.providers.values[this.providerId[row]!]!;
    call.status = this.status[row]!;
    call.durationSeconds = this.duration[row]!;
    call.at = this.at[row]!;
    call.issuedAt = issued === NOT_ISSUED ? undefined : issued;
    call.packageName = this.packages.values[this.packageId[row]!];
    call.credentialUse = use === NO_USE ? undefined : use;
    call.credential = keys.credential.get(row);
    call.context = keys.context.get(row);
    call.buffer = keys.buffer.get(row);
    call.outHandle = keys.out.get(row);
    call.failedOutHandle = keys.failedOut.get(row);
    call.outHolder = this.holder[row];
    call.outBuffers = this.buffers[row];
    call.tokenVerdict = this.verdicts.values[this.verdictId[row]!];
    call.site = this.site[row];
  }

  private fnAt(row: number): SspiFunction {
    return sspiFunctionById(this.fnId[row]!);
  }

  /** The filter learns the values a row releases or hands out, as it is logged. */
  private noteEffects(row: number): void {
    const fn = this.fnAt(row);
    const status = this.status[row]!;
    const effect = rowEffect(fn, status);
    if (effect !== undefined) this.filter.add(effect.kind, this.column(effect.column).get(row), effect.releases);
    const buffers = this.buffers[row];
    if (buffers !== undefined && handsOutBuffers(fn, status)) for (const buffer of buffers) this.filter.add('buffer', buffer.key, false);
  }

  /** What one row does to `key`: releases it (true), hands it out (false), or nothing (undefined). */
  private effectOfRow(row: number, kind: HandleKind, key: ReadHandle): boolean | undefined {
    const fn = this.fnAt(row);
    const status = this.status[row]!;
    const effect = rowEffect(fn, status);
    if (effect !== undefined && effect.kind === kind && this.column(effect.column).equals(row, key)) return effect.releases;
    if (kind === 'buffer' && handsOutBuffers(fn, status)) {
      const buffers = this.buffers[row];
      if (buffers) for (const buffer of buffers) if (buffer.key === key) return false;
    }
    return undefined;
  }

  /** A key column by name: a switch, where `keys[name]` with a name that varies is a slow keyed load. */
  private column(name: KeyColumnName): KeyColumn {
    const keys = this.keys;
    switch (name) {
      case 'credential':
        return keys.credential;
      case 'context':
        return keys.context;
      case 'buffer':
        return keys.buffer;
      case 'out':
        return keys.out;
      case 'failedOut':
        return keys.failedOut;
    }
  }

  /**
   * Loops, not `fill`: in a server a batch is the few calls of one request, and each `fill` is a call
   * into the runtime that costs more than the stores of a few rows.
   */
  private clear(): void {
    const n = this.count;
    const { holder, site, callerContext, buffers, keys } = this;
    // References are dropped so that the GC detector and stacks see no holder kept alive by the log.
    for (let row = 0; row < n; row++) {
      holder[row] = undefined;
      site[row] = undefined;
      callerContext[row] = undefined;
      buffers[row] = undefined;
    }
    keys.credential.clear(n);
    keys.context.clear(n);
    keys.buffer.clear(n);
    keys.out.clear(n);
    keys.failedOut.clear(n);
    this.filter.clear();
    this.count = 0;
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
