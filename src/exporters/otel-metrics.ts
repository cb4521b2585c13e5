/**
 * The catalog's metrics as OpenTelemetry instruments, in OpenTelemetry's naming style: event-fed
 * metrics are counters and histograms recorded by the shared `CatalogListener`; collected ones are
 * observed from the registry's state at collection time, like the Prometheus gauges, so both always
 * agree.
 *
 * Instruments are made from the SDK's meter the first time an event finds one registered (and again
 * if the provider changes); with none registered an event costs one lookup and builds nothing.
 * Counting starts when the meter provider is registered: register the SDK before the first SSPI call.
 */
import type { Attributes, Counter, Histogram, Meter, Observable, ObservableCallback } from '@opentelemetry/api';
import type { HandleRegistry } from '../core/registry.js';
import { CATALOG } from '../metrics/catalog.js';
import { CatalogListener } from '../metrics/catalog-listener.js';
import { otelInstrument, otelViews, type CollectFeed, type MetricView } from '../metrics/model.js';

interface Instruments {
  /** The event-fed instruments, by catalog key. */
  readonly recorded: Map<string, Counter | Histogram>;
  /** The observable instruments and their callbacks, removed when the meter changes or the exporter stops. */
  readonly observed: Array<[Observable, ObservableCallback]>;
}

export class OtelMetricsExporter {
  /** What the registry's events go to (through the telemetry's gate). */
  readonly events: CatalogListener<Attributes>;
  private meter: Meter | undefined;
  private instruments: Instruments | undefined;
  private readonly views = otelViews(CATALOG);

  constructor(
    private readonly registry: HandleRegistry,
    private readonly meters: () => Meter | undefined,
  ) {
    // Attribute objects are made once per label set: recording does not allocate.
    const attributes = (view: MetricView, values: readonly string[]): Attributes => Object.fromEntries(view.labels.map((l, i) => [l.attribute, values[i]]));
    this.events = new CatalogListener<Attributes>(
      this.views,
      { series: attributes, recorder: (view) => this.recorder(view) },
      { ready: () => this.current() !== undefined },
    );
  }

  /**
   * Makes the instruments of the meter registered now, if that is new. Until they exist, a collection
   * (an app's forceFlush or shutdown in the same turn as its calls) would find nothing that applies
   * the registry's waiting calls: the observable callbacks, which read it first, are made with them.
   */
  prepare(): void {
    this.current();
  }

  /** Removes the observable instruments' callbacks from the meter. */
  stop(): void {
    this.removeObservers();
    this.meter = this.instruments = undefined;
  }

  /** The instruments of the meter registered now, made when it first appears. */
  private current(): Instruments | undefined {
    const meter = this.meters();
    if (meter !== this.meter) {
      this.removeObservers();
      this.meter = meter;
      this.instruments = meter ? this.create(meter) : undefined;
    }
    return this.instruments;
  }

  private create(meter: Meter): Instruments {
    const instruments: Instruments = { recorded: new Map(), observed: [] };
    for (const view of this.views) {
      const { def } = view;
      const options = { description: view.help, unit: def.unit, ...(def.buckets && { advice: { explicitBucketBoundaries: [...def.buckets] } }) };
      const kind = otelInstrument(def);
      if (kind === 'Counter') instruments.recorded.set(view.key, meter.createCounter(view.name, options));
      else if (kind === 'Histogram') instruments.recorded.set(view.key, meter.createHistogram(view.name, options));
      else {
        const instrument =
          kind === 'ObservableCounter'
            ? meter.createObservableCounter(view.name, options)
            : kind === 'ObservableGauge'
              ? meter.createObservableGauge(view.name, options)
              : meter.createObservableUpDownCounter(view.name, options);
        const callback = this.observer(view, def.feed as CollectFeed);
        instrument.addCallback(callback);
        instruments.observed.push([instrument, callback]);
      }
    }
    return instruments;
  }

  private observer(view: MetricView, feed: CollectFeed): ObservableCallback {
    return (result) => {
      feed.collect(this.registry.settled(), (value, labels) => {
        const attributes: Attributes = {};
        for (const label of view.labels) attributes[label.attribute] = labels[label.name];
        result.observe(value, attributes);
      });
    };
  }

  private recorder(view: MetricView): (attributes: Attributes, value: number) => void {
    const key = view.key;
    if (view.def.type === 'histogram') return (attributes, value) => (this.instruments!.recorded.get(key) as Histogram).record(value, attributes);
    return (attributes, value) => (this.instruments!.recorded.get(key) as Counter).add(value, attributes);
  }

  private removeObservers(): void {
    for (const [instrument, callback] of this.instruments?.observed.splice(0) ?? []) instrument.removeCallback(callback);
  }
}
