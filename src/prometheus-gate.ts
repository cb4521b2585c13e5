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
import { REGISTRY_EVENT_NAMES, type RegistryEvent, type RegistryListener } from './core/registry-events.js';
import type { MetricObject } from './exporters/series.js';
import type * as PrometheusModule from './exporters/prometheus.js';
import type { PrometheusExporter } from './exporters/prometheus.js';
import { onDemand } from './on-demand.js';
import type { Registry } from 'prom-client';

const prometheus = onDemand<typeof PrometheusModule>('./exporters/prometheus.js');

type Handler = (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => void;

export class PrometheusGate {
  private loaded: PrometheusExporter | undefined;
  private stopWaiting: (() => void) | undefined;

  constructor(private readonly handles: HandleRegistry) {
    this.stopWaiting = handles.subscribe(this.waiting());
  }

  /** See `PrometheusExporter.registry`. */
  get registry(): Registry {
    return this.load().registry;
  }

  /** See `PrometheusExporter.contentType`. */
  get contentType(): string {
    return this.load().contentType;
  }

  /** See `PrometheusExporter.metrics`. */
  metrics(): Promise<string> {
    return this.load().metrics();
  }

  /** See `PrometheusExporter.snapshot`. */
  snapshot(): MetricObject[] {
    return this.load().snapshot();
  }

  stop(): void {
    this.stopWaiting?.();
    this.stopWaiting = undefined;
    this.loaded?.stop();
  }

  private load(): PrometheusExporter {
    if (this.loaded) return this.loaded;
    // What waits in the registry is heard first: by the waiting listener, which loads the exporter
    // at the first event (a re-entrant settle, from inside an event, applies nothing).
    this.handles.settled();
    if (this.loaded) return this.loaded;
    this.loaded = new (prometheus().PrometheusExporter)(this.handles);
    this.stopWaiting?.();
    this.stopWaiting = undefined;
    return this.loaded;
  }

  /** Every event loads the exporter, whose own listener is not among the registry's yet while this one is dispatched: it is handed the event here. */
  private waiting(): RegistryListener {
    const listener: Record<string, Handler> = {};
    for (const event of REGISTRY_EVENT_NAMES) listener[event] = this.forward(event);
    return listener as RegistryListener;
  }

  private forward(event: RegistryEvent): Handler {
    return (a, b, c, d, e) => {
      const handler = this.load().listener[event] as Handler | undefined;
      handler?.call(this.loaded!.listener, a, b, c, d, e);
    };
  }
}
