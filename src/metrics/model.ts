/**
 * The shape of a catalog entry (`catalog.ts`), and how each exporter sees one. A metric is fed one
 * of two ways: by a registry event (a counter or histogram bumped as the event is heard), or by a
 * collect function (a value read from the registry's state when a scrape or an export asks).
 */
import type { HandleView } from '../core/handle-store.js';
import type { RegistryEventMap, RegistryEvent } from '../core/registry-events.js';
export type LabelValue = string | number;

/** A label: its Prometheus name, the OpenTelemetry attribute it becomes, how a raw value reads. */
export interface Label {
  readonly name: string;
  readonly attribute: string;
  /** The label's text for a value read from an event (default: the value itself). */
  readonly format?: (raw: LabelValue) => string;
  /**
   * At most this many values under each value of the labels before it; further values count as
   * `other`, so a misbehaving provider cannot grow the number of series without bound.
   */
  readonly cap?: number;
}

/** The registry events a metric may follow: any of them. */
export type MetricEvent = RegistryEvent;

export type EventArgs<E extends MetricEvent> = RegistryEventMap[E];

/** Reads a label value (or a histogram's observation) from an event's arguments. */
export type Reader<T = LabelValue> = (...args: any[]) => T;

export interface EventFeed {
  readonly event: MetricEvent;
  /** Per label name, how its value is read from the event. */
  readonly labels: Readonly<Record<string, Reader>>;
  /** A histogram's observation, or what a counter adds; a counter counts 1 per event without it. */
  readonly value?: Reader<number>;
  /** A histogram's observations, several per event (a batch's calls): each is recorded. */
  readonly values?: Reader<readonly number[]>;
}

/** Reports one value of a collected metric, its labels by name. */
export type Observe = (value: number, labels: Record<string, string>) => void;

export interface CollectFeed {
  /** `handles`: the registry's state with every waiting call applied. */
  readonly collect: (handles: HandleView, observe: Observe) => void;
}

/** A metric fed by `event`: `labels` read each label from the event's arguments. */
export function on<E extends MetricEvent>(
  event: E,
  labels: { readonly [name: string]: (...args: EventArgs<E>) => LabelValue },
  value?: (...args: EventArgs<E>) => number,
): EventFeed {
  return { event, labels: labels as Record<string, Reader>, ...(value && { value: value as Reader<number> }) };
}

/** A histogram fed by `event` with several observations each time (`values`). */
export function onEach<E extends MetricEvent>(
  event: E,
  labels: { readonly [name: string]: (...args: EventArgs<E>) => LabelValue },
  values: (...args: EventArgs<E>) => readonly number[],
): EventFeed {
  return { event, labels: labels as Record<string, Reader>, values: values as Reader<readonly number[]> };
}

/** A metric computed from the registry's state whenever it is read. */
export function collect(fn: CollectFeed['collect']): CollectFeed {
  return { collect: fn };
}

export function isEventFeed(feed: EventFeed | CollectFeed): feed is EventFeed {
  return 'event' in feed;
}

/**
 * Series that exist at 0 before their first event, so that an alert's `increase()` sees that first
 * one: from the start (these label values), or with the first series of a kind and package in any
 * metric so marked (that kind and package, followed by each of these).
 */
export type Zeroes = { readonly atStart: readonly (readonly string[])[] } | { readonly perKindPackage: readonly (readonly string[])[] };

/** The OpenTelemetry twin of a metric, where it differs from the Prometheus one. */
export interface OtelTwin {
  readonly name: string;
  readonly labels?: readonly Label[];
  readonly help?: string;
  /** What a reader comparing it with Prometheus should know (the docs' table shows it). */
  readonly note?: string;
}

export interface MetricDef {
  /** The Prometheus name: a contract dashboards and alert rules are built on. */
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  /** As OpenTelemetry gives it (UCUM); Prometheus carries it in the name. */
  readonly unit: string;
  readonly labels: readonly Label[];
  readonly feed: EventFeed | CollectFeed;
  readonly buckets?: readonly number[];
  /** How several threads' values combine (prom-client's aggregator names); `sum` unless said. */
  readonly aggregator?: 'sum' | 'max';
  /** It describes the thread itself (an age, a stale count): dropped from the totals when the thread ends. */
  readonly perThread?: boolean;
  readonly zeroes?: Zeroes;
  /** Null: it has no twin (the entry says why). */
  readonly otel: OtelTwin | null;
}

/** One metric as one exporter shows it. */
export interface MetricView {
  readonly key: string;
  readonly def: MetricDef;
  readonly name: string;
  readonly help: string;
  readonly labels: readonly Label[];
}

export function prometheusViews(catalog: Readonly<Record<string, MetricDef>>): MetricView[] {
  return Object.entries(catalog).map(([key, def]) => ({ key, def, name: def.name, help: def.help, labels: def.labels }));
}

export function otelViews(catalog: Readonly<Record<string, MetricDef>>): MetricView[] {
  return Object.entries(catalog).flatMap(([key, def]) =>
    def.otel ? [{ key, def, name: def.otel.name, help: def.otel.help ?? def.help, labels: def.otel.labels ?? def.labels }] : [],
  );
}

export type OtelInstrument = 'Counter' | 'Histogram' | 'ObservableCounter' | 'ObservableUpDownCounter' | 'ObservableGauge';

/**
 * The OpenTelemetry instrument a metric becomes. A collected gauge whose threads' values add up (a
 * count) is an UpDownCounter; one that does not (an age) is a gauge.
 */
export function otelInstrument(def: MetricDef): OtelInstrument {
  if (isEventFeed(def.feed)) return def.type === 'histogram' ? 'Histogram' : 'Counter';
  if (def.type === 'counter') return 'ObservableCounter';
  return def.aggregator === 'max' ? 'ObservableGauge' : 'ObservableUpDownCounter';
}
