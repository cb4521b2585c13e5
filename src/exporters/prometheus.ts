/**
 * The catalog's metrics as Prometheus series, in a prom-client `Registry` of their own (so an app's
 * registry is never touched; apps merge it with `Registry.merge`). Event-fed metrics are fast series
 * (`series.ts`) bumped by the shared `CatalogListener`; collected ones are computed from the handle
 * registry's state at scrape time, so their cost grows with series, not handles. Series an alert
 * watches for its first increment exist at 0 from the start (the catalog's `zeroes`), so
 * `increase()` sees that first increment.
 *
 * The series count from the start without prom-client; the `Registry` is made, and prom-client
 * loaded, at the first read that needs one (a scrape, the API's `registry()`), holding the very
 * series objects counted so far. A worker thread's snapshots never need it.
 */
import type { Registry } from 'prom-client';
import type { HandleRegistry } from '../core/registry.js';
import { CATALOG } from '../metrics/catalog.js';
import { CatalogListener, type MetricSink } from '../metrics/catalog-listener.js';
import { isEventFeed, prometheusViews, type MetricView } from '../metrics/model.js';
import { promClient } from './prom-client.js';
import { ComputedMetric, FastCounter, FastHistogram, type CounterSeries, type HistogramSeries, type MetricObject, type MetricValue } from './series.js';

type Series = CounterSeries | HistogramSeries;
type AgentMetric = ComputedMetric | FastCounter | FastHistogram;

export class PrometheusExporter {
  /** Every metric of the catalog, in the catalog's order: what the registry serves once made. */
  private readonly all: AgentMetric[] = [];
  private readonly fast = new Map<string, FastCounter | FastHistogram>();
  /** Bumps the series from the registry's events (subscribed by the constructor). */
  readonly listener: CatalogListener<Series>;
  private readonly unsubscribe: () => void;
  private made: Registry | undefined;

  constructor(private readonly handles: HandleRegistry) {
    const views = prometheusViews(CATALOG);
    for (const view of views) this.register(view);
    const sink: MetricSink<Series> = { series: (view, values) => this.seriesOf(view).labels(...values), recorder: (view) => this.recorder(view) };
    this.listener = new CatalogListener(views, sink, { zeroes: true });
    this.unsubscribe = handles.subscribe(this.listener);
  }

  /** The prom-client registry serving the agent's metrics, made (and prom-client loaded) on first use. */
  get registry(): Registry {
    if (this.made) return this.made;
    const registry = new (promClient().Registry)();
    for (const metric of this.all) registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
    return (this.made = registry);
  }

  /** The exposition's content type, as `/metrics` answers it. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text, as `/metrics` serves it. */
  metrics(): Promise<string> {
    // Calls the registry has not applied yet count in this scrape (the first gauge's collect settles
    // them too, for a registry merged into the app's).
    this.handles.settled();
    return this.registry.metrics();
  }

  /** Every metric's values, read synchronously and without prom-client: what a worker thread hands the main thread. */
  snapshot(): MetricObject[] {
    this.handles.settled();
    return this.all.map((m) => m.snapshot());
  }

  stop(): void {
    this.unsubscribe();
  }

  /** A collected metric computes its values at scrape time; an event-fed one is a fast series the listener bumps. */
  private register(view: MetricView): void {
    const { def } = view;
    const labelNames = view.labels.map((l) => l.name);
    if (!isEventFeed(def.feed)) {
      const { collect } = def.feed;
      const compute = () => {
        const values: MetricValue[] = [];
        collect(this.handles.settled(), (value, labels) => values.push({ labels, value }));
        return values;
      };
      this.all.push(new ComputedMetric(view.name, view.help, def.type === 'counter' ? 'counter' : 'gauge', labelNames, compute, def.aggregator ?? 'sum'));
      return;
    }
    const metric = def.type === 'histogram' ? new FastHistogram(view.name, view.help, labelNames, def.buckets ?? []) : new FastCounter(view.name, view.help, labelNames);
    this.all.push(metric);
    // A metric read on its own (`getSingleMetric(...).get()`) counts the calls the registry has not applied yet.
    metric.beforeRead = () => this.handles.settled();
    this.fast.set(view.key, metric);
  }

  private seriesOf(view: MetricView): FastCounter | FastHistogram {
    return this.fast.get(view.key)!;
  }

  private recorder(view: MetricView): (series: Series, value: number) => void {
    const metric = this.seriesOf(view);
    if (metric instanceof FastHistogram) return (series, value) => metric.observe(series as HistogramSeries, value);
    return (series, value) => {
      (series as CounterSeries).value += value;
    };
  }
}
