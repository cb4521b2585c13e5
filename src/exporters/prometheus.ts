/**
 * The agent's Prometheus metrics, in a prom-client `Registry` of their own (so an app's registry is
 * never touched; apps merge it with `Registry.merge`). Counters follow the handle registry's events;
 * gauges are computed from its state at scrape time, so their cost grows with series, not handles.
 * Series an alert watches for its first increment (leaks, invalid releases, …) exist at 0 from the
 * start, so `increase()` sees that first increment.
 */
import { performance } from 'node:perf_hooks';
import client from 'prom-client';
import { agentErrorCounts } from '../diagnostics.js';
import { HANDLE_KINDS, type HandleRegistry } from '../registry.js';
import { NEGOTIATED_LABELS, type NegotiatedLabel } from '../sspi/negotiation-tokens.js';
import { statusName } from '../sspi/status.js';
import {
  FORCED_RESULTS,
  INVALID_RELEASE_REASONS,
  LEAK_REASONS,
  STALE_REASONS,
  type ForcedRelease,
  type InvalidRelease,
  type LeakReason,
  type RegistryListener,
  type TrackedHandle,
} from '../types.js';
import { CALL_DURATION_BUCKETS, HELP, LIFETIME_BUCKETS, METRICS } from './metric-names.js';
import { ComputedMetric, FastCounter, FastHistogram, type CounterSeries, type HistogramSeries, type MetricObject, type SnapshotMetric } from './series.js';

/** The series one function's calls touch, found with one Map lookup per call. */
interface CallSeries {
  duration: HistogramSeries;
  byStatus: Map<number, CounterSeries>;
}

/** The series one kind and package of handle touches. */
interface HandleSeries {
  opened: CounterSeries;
  closed: CounterSeries;
  lifetime: HistogramSeries;
  /** By leak reason: an exit with 100k leaks bumps these 100k times. */
  leaked: Record<LeakReason, CounterSeries>;
}

/**
 * Status labels one function may have; past this, further unknown codes count as `other`, so a
 * misbehaving provider cannot grow the number of series without bound.
 */
export const MAX_STATUSES_PER_FUNCTION = 32;
const OTHER_STATUS = Number.NaN;

export class PrometheusExporter implements RegistryListener {
  readonly registry = new client.Registry();
  private readonly opened: FastCounter;
  private readonly closed: FastCounter;
  private readonly leaked: FastCounter;
  private readonly lifetime: FastHistogram;
  private readonly calls: FastCounter;
  private readonly callDuration: FastHistogram;
  private readonly invalidReleases: FastCounter;
  private readonly outOfOrder: FastCounter;
  private readonly forced: FastCounter;
  private readonly unloads: FastCounter;
  private readonly negotiations: FastCounter;
  private readonly callSeries = new Map<string, CallSeries>();
  private readonly handleSeries = { credential: new Map(), context: new Map(), buffer: new Map() } as Record<
    TrackedHandle['kind'],
    Map<string, HandleSeries>
  >;
  private readonly unsubscribe: () => void;

  constructor(private readonly handles: HandleRegistry) {
    const r = this.registry;
    new ComputedMetric(METRICS.handlesLive, HELP.handlesLive, 'gauge', ['kind', 'package', 'direction'], () =>
      handles.liveGroups().map((g) => ({ labels: { kind: g.kind, package: g.package, direction: g.direction }, value: g.count })),
    r);
    new ComputedMetric(
      METRICS.oldestAge,
      HELP.oldestAge,
      'gauge',
      ['kind'],
      () => {
        const now = performance.now();
        return HANDLE_KINDS.map((kind) => {
          const oldest = handles.oldest(kind);
          return { labels: { kind }, value: oldest ? (now - oldest.createdAt) / 1000 : 0 };
        });
      },
      r,
      'max',
    );
    new ComputedMetric(METRICS.handlesStale, HELP.handlesStale, 'gauge', ['kind', 'reason'], () =>
      HANDLE_KINDS.flatMap((kind) => STALE_REASONS.map((reason) => ({ labels: { kind, reason }, value: handles.staleCount(kind, reason) }))),
    r);
    this.opened = new FastCounter(METRICS.handlesOpened, HELP.handlesOpened, ['kind', 'package'], r);
    this.closed = new FastCounter(METRICS.handlesClosed, HELP.handlesClosed, ['kind', 'package'], r);
    this.leaked = new FastCounter(
      METRICS.handlesLeaked,
      HELP.handlesLeaked,
      ['kind', 'package', 'reason'],
      r,
    );
    this.lifetime = new FastHistogram(METRICS.lifetime, HELP.lifetime, ['kind', 'package'], LIFETIME_BUCKETS, r);
    this.calls = new FastCounter(METRICS.calls, HELP.calls, ['function', 'status'], r);
    this.callDuration = new FastHistogram(METRICS.callDuration, HELP.callDuration, ['function'], CALL_DURATION_BUCKETS, r);
    this.invalidReleases = new FastCounter(
      METRICS.invalidReleases,
      HELP.invalidReleases,
      ['kind', 'reason'],
      r,
    );
    this.outOfOrder = new FastCounter(METRICS.outOfOrderReleases, HELP.outOfOrderReleases, ['kind'], r);
    this.forced = new FastCounter(METRICS.forcedReleases, HELP.forcedReleases, ['kind', 'result'], r);
    this.unloads = new FastCounter(METRICS.unloadWithLiveHandles, HELP.unloadWithLiveHandles, [], r);
    this.negotiations = new FastCounter(METRICS.negotiations, HELP.negotiations, ['package', 'negotiated'], r);
    new ComputedMetric(METRICS.agentErrors, HELP.agentErrors, 'counter', ['where'], () => {
      handles.settle(); // what applying the waiting calls fails at counts in this read
      return [...agentErrorCounts()].map(([where, count]) => ({ labels: { where }, value: count }));
    }, r);
    for (const kind of HANDLE_KINDS) {
      for (const reason of INVALID_RELEASE_REASONS) this.invalidReleases.labels(kind, reason);
      for (const result of FORCED_RESULTS) this.forced.labels(kind, result);
    }
    this.outOfOrder.labels('credential');
    this.unloads.labels();
    for (const negotiated of NEGOTIATED_LABELS) this.negotiations.labels('Negotiate', negotiated);
    // A metric read on its own (`getSingleMetric(...).get()`) counts the calls the registry has not applied yet.
    const settle = () => handles.settle();
    const fast = [this.opened, this.closed, this.leaked, this.lifetime, this.calls, this.callDuration, this.invalidReleases, this.outOfOrder, this.forced, this.unloads, this.negotiations];
    for (const series of fast) series.beforeRead = settle;
    this.unsubscribe = handles.subscribe(this);
  }

  onOpen(handle: TrackedHandle): void {
    this.seriesOf(handle).opened.value++;
  }

  onClose(handle: TrackedHandle, lifetimeSeconds: number): void {
    const series = this.seriesOf(handle);
    series.closed.value++;
    this.lifetime.observe(series.lifetime, lifetimeSeconds);
  }

  onInvalidRelease(event: InvalidRelease): void {
    this.invalidReleases.labels(event.kind, event.reason).value++;
  }

  onLeak(handle: TrackedHandle, reason: LeakReason): void {
    this.seriesOf(handle).leaked[reason].value++;
  }

  onOutOfOrderRelease(credential: TrackedHandle): void {
    this.outOfOrder.labels(credential.kind).value++;
  }

  onForcedRelease(event: ForcedRelease): void {
    this.forced.labels(event.handle.kind, event.result).value++;
  }

  onUnloadWithLiveHandles(): void {
    this.unloads.labels().value++;
  }

  onNegotiated(context: TrackedHandle, negotiated: NegotiatedLabel): void {
    this.negotiations.labels(context.package, negotiated).value++;
  }

  onCall(fn: string, status: number, durationSeconds: number): void {
    let series = this.callSeries.get(fn);
    if (!series) {
      series = { duration: this.callDuration.labels(fn), byStatus: new Map() };
      this.callSeries.set(fn, series);
    }
    let calls = series.byStatus.get(status);
    if (!calls) {
      const full = series.byStatus.size >= MAX_STATUSES_PER_FUNCTION;
      const key = full ? OTHER_STATUS : status;
      calls = series.byStatus.get(key) ?? this.calls.labels(fn, full ? 'other' : statusName(status));
      series.byStatus.set(key, calls);
    }
    calls.value++;
    this.callDuration.observe(series.duration, durationSeconds);
  }

  /** The exposition text, as `/metrics` serves it. */
  metrics(): Promise<string> {
    // Calls the registry has not applied yet count in this scrape (the first gauge's collect settles
    // them too, for a registry merged into the app's).
    this.handles.settle();
    return this.registry.metrics();
  }

  /** Every metric's values, read synchronously: what a worker thread hands the main thread. */
  snapshot(): MetricObject[] {
    this.handles.settle();
    return (this.registry.getMetricsAsArray() as unknown as SnapshotMetric[]).map((m) => m.snapshot());
  }

  stop(): void {
    this.unsubscribe();
  }

  /** Created with the first handle of a kind and package, together with its leak series at 0. */
  private seriesOf(handle: TrackedHandle): HandleSeries {
    const byPackage = this.handleSeries[handle.kind];
    let series = byPackage.get(handle.package);
    if (!series) {
      series = {
        opened: this.opened.labels(handle.kind, handle.package),
        closed: this.closed.labels(handle.kind, handle.package),
        lifetime: this.lifetime.labels(handle.kind, handle.package),
        leaked: Object.fromEntries(LEAK_REASONS.map((reason) => [reason, this.leaked.labels(handle.kind, handle.package, reason)])) as Record<
          LeakReason,
          CounterSeries
        >,
      };
      byPackage.set(handle.package, series);
    }
    return series;
  }
}
