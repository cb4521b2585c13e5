/**
 * The agent's Prometheus metrics, in a prom-client `Registry` of their own (so an app's registry is
 * never touched; apps merge it with `Registry.merge`). Counters follow the handle registry's events;
 * gauges are computed from its state at scrape time, so their cost grows with series, not handles.
 */
import { performance } from 'node:perf_hooks';
import client from 'prom-client';
import { agentErrorCounts } from '../diagnostics.js';
import { HANDLE_KINDS, type HandleRegistry } from '../registry.js';
import { statusName } from '../sspi/status.js';
import type { HandleKind, InvalidReleaseReason, LeakReason, RegistryListener, TrackedHandle } from '../types.js';
import { CALL_DURATION_BUCKETS, LIFETIME_BUCKETS, METRICS } from './metric-names.js';
import { FastCounter, FastHistogram, type CounterSeries, type HistogramSeries } from './series.js';

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
}

export class PrometheusExporter implements RegistryListener {
  readonly registry = new client.Registry();
  private readonly opened: FastCounter;
  private readonly closed: FastCounter;
  private readonly leaked: client.Counter<'kind' | 'package' | 'reason'>;
  private readonly lifetime: FastHistogram;
  private readonly calls: FastCounter;
  private readonly callDuration: FastHistogram;
  private readonly invalidReleases: client.Counter<'kind' | 'reason'>;
  private readonly callSeries = new Map<string, CallSeries>();
  private readonly handleSeries: Record<HandleKind, Map<string, HandleSeries>> = { credential: new Map(), context: new Map() };
  private readonly unsubscribe: () => void;

  constructor(handles: HandleRegistry) {
    const registers = [this.registry];
    new client.Gauge({
      name: METRICS.handlesLive,
      help: 'SSPI handles currently live (acquired or created, not yet freed or deleted).',
      labelNames: ['kind', 'package', 'direction'] as const,
      registers,
      collect() {
        this.reset();
        for (const g of handles.liveGroups()) this.set({ kind: g.kind, package: g.package, direction: g.direction }, g.count);
      },
    });
    new client.Gauge({
      name: METRICS.oldestAge,
      help: 'Age of the oldest live SSPI handle of each kind (0 when none is live).',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        const now = performance.now();
        for (const kind of HANDLE_KINDS) {
          const oldest = handles.oldest(kind);
          this.set({ kind }, oldest ? (now - oldest.createdAt) / 1000 : 0);
        }
      },
    });
    this.opened = new FastCounter(
      METRICS.handlesOpened,
      'SSPI handles created: credentials acquired, contexts created or imported.',
      ['kind', 'package'],
      this.registry,
    );
    this.closed = new FastCounter(
      METRICS.handlesClosed,
      'SSPI handles released: credentials freed, contexts deleted.',
      ['kind', 'package'],
      this.registry,
    );
    this.leaked = new client.Counter({
      name: METRICS.handlesLeaked,
      help: 'SSPI handles found leaked, by how the agent knows (exit: still live when the process ended).',
      labelNames: ['kind', 'package', 'reason'] as const,
      registers,
    });
    this.lifetime = new FastHistogram(
      METRICS.lifetime,
      'Time from a handle’s creation to its release.',
      ['kind', 'package'],
      LIFETIME_BUCKETS,
      this.registry,
    );
    this.calls = new FastCounter(
      METRICS.calls,
      'SSPI calls by function and returned SECURITY_STATUS (by name; unknown codes as 0x-hex).',
      ['function', 'status'],
      this.registry,
    );
    this.callDuration = new FastHistogram(METRICS.callDuration, 'Duration of SSPI calls.', ['function'], CALL_DURATION_BUCKETS, this.registry);
    this.invalidReleases = new client.Counter({
      name: METRICS.invalidReleases,
      help: 'Free/Delete calls that did not end a tracked handle (unknown: never seen; failed: error status).',
      labelNames: ['kind', 'reason'] as const,
      registers,
    });
    new client.Counter({
      name: METRICS.agentErrors,
      help: 'Internal errors of the agent, by where they happened (the app’s calls were not affected).',
      labelNames: ['where'] as const,
      registers,
      collect() {
        this.reset();
        for (const [where, count] of agentErrorCounts()) this.inc({ where }, count);
      },
    });
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

  onInvalidRelease(kind: HandleKind, reason: InvalidReleaseReason): void {
    this.invalidReleases.inc({ kind, reason });
  }

  onLeak(handle: TrackedHandle, reason: LeakReason): void {
    this.leaked.inc({ kind: handle.kind, package: handle.package, reason });
  }

  onCall(fn: string, status: number, durationSeconds: number): void {
    let series = this.callSeries.get(fn);
    if (!series) {
      series = { duration: this.callDuration.labels(fn), byStatus: new Map() };
      this.callSeries.set(fn, series);
    }
    let calls = series.byStatus.get(status);
    if (!calls) {
      calls = this.calls.labels(fn, statusName(status));
      series.byStatus.set(status, calls);
    }
    calls.value++;
    this.callDuration.observe(series.duration, durationSeconds);
  }

  private seriesOf(handle: TrackedHandle): HandleSeries {
    const byPackage = this.handleSeries[handle.kind];
    let series = byPackage.get(handle.package);
    if (!series) {
      series = {
        opened: this.opened.labels(handle.kind, handle.package),
        closed: this.closed.labels(handle.kind, handle.package),
        lifetime: this.lifetime.labels(handle.kind, handle.package),
      };
      byPackage.set(handle.package, series);
    }
    return series;
  }

  /** The exposition text, as `/metrics` serves it. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  stop(): void {
    this.unsubscribe();
  }
}
