/**
 * The Prometheus side as the agent starts it: not loaded (the exporter, the metric catalog and its
 * listener, the series), only a registry listener that waits for the first event. The first event,
 * read (a scrape, the API's `registry()`, a worker's snapshot) or anything else that needs the
 * exporter loads it (see on-demand.ts), and the waiting listener steps aside; a process that starts
 * and ends without one never compiles it.
 *
 * Nothing is lost: the exporter's series at 0 are made when it loads, before it hears anything, and
 * the event that loaded it is handed to it; the events after it it hears as its own listener. A read
 * that loads it first applies the calls waiting in the registry, which loads it from their first event.
 */
import type { HandleRegistry } from './core/registry.js';
import type { MetricObject } from './exporters/series.js';
import type * as PrometheusModule from './exporters/prometheus.js';
import type { PrometheusExporter } from './exporters/prometheus.js';
import { LoadedOnEvent } from './loaded-on-event.js';
import { onDemand } from './on-demand.js';
import type { Registry } from 'prom-client';

const prometheus = onDemand<typeof PrometheusModule>('./exporters/prometheus.js');

export class PrometheusGate {
  private readonly side: LoadedOnEvent<PrometheusExporter>;

  constructor(handles: HandleRegistry) {
    this.side = new LoadedOnEvent(handles, { make: () => new (prometheus().PrometheusExporter)(handles), listenerOf: (p) => p.listener });
  }

  /** See `PrometheusExporter.registry`. */
  get registry(): Registry {
    return this.side.load().registry;
  }

  /** See `PrometheusExporter.contentType`. */
  get contentType(): string {
    return this.side.load().contentType;
  }

  /** See `PrometheusExporter.metrics`. */
  metrics(): Promise<string> {
    return this.side.load().metrics();
  }

  /** See `PrometheusExporter.snapshot`. */
  snapshot(): MetricObject[] {
    return this.side.load().snapshot();
  }

  stop(): void {
    this.side.stopWaitingNow();
    this.side.loaded?.stop();
  }
}
