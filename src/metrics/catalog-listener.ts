/**
 * The routing both exporters share: a registry listener that, for each event, records into every
 * metric of the catalog the event feeds. An exporter supplies only what it records into (its
 * `MetricSink`); which event feeds which metric, with which labels, is the catalog's.
 */
import { REGISTRY_EVENT_NAMES, type RegistryListener } from '../core/registry-events.js';
import { LabelSets } from './label-sets.js';
import { isEventFeed, type Label, type MetricEvent, type MetricView, type Reader } from './model.js';

/** What an exporter records into, made once per label set. */
export interface MetricSink<S> {
  /** The series (or attributes) of one label set, `values` in the order of the view's labels. */
  series(view: MetricView, values: readonly string[]): S;
  /** How a value is recorded into one of the view's series: added (a counter), or observed. */
  recorder(view: MetricView): (series: S, value: number) => void;
}

export interface CatalogListenerOptions {
  /** Consulted first on every event: false drops it (an exporter with nowhere to record yet). */
  readonly ready?: () => boolean;
  /** Whether the series the catalog lists in `zeroes` exist at 0 before their first event. */
  readonly zeroes?: boolean;
}

/** One metric an event feeds: where its labels sit among the event's, and how it records. */
interface Target<S> {
  readonly view: MetricView;
  readonly positions: readonly number[];
  readonly value: Reader<number> | undefined;
  readonly values: Reader<readonly number[]> | undefined;
  readonly record: (series: S, value: number) => void;
}

/**
 * Everything one event feeds. Its label sets are keyed by the labels of all its metrics at once, so
 * that one walk (a Map lookup per distinct label) finds the series of every metric it feeds.
 */
interface Route<S> {
  readonly targets: readonly Target<S>[];
  readonly sets: LabelSets<S[]>;
}

/** Its event handlers are made in the constructor, one per event a metric follows. */
export interface CatalogListener<S> extends RegistryListener {}

export class CatalogListener<S> {
  /** Per event a metric follows: the metrics it feeds (its handler is made in the constructor). */
  private readonly routes: Partial<Record<MetricEvent, Route<S>>> = {};
  private readonly ready: (() => boolean) | undefined;
  /** The metrics whose series of a kind and package appear together, and the groups already made. */
  private readonly perKindPackage = new Map<MetricView, readonly (readonly string[])[]>();
  private readonly kindPackages = new Set<string>();

  constructor(
    views: readonly MetricView[],
    private readonly sink: MetricSink<S>,
    options: CatalogListenerOptions = {},
  ) {
    this.ready = options.ready;
    const plans = new Map<MetricEvent, { labels: Label[]; readers: Reader[]; targets: Target<S>[] }>();
    for (const view of views) {
      const { feed, zeroes } = view.def;
      if (!isEventFeed(feed)) continue;
      let plan = plans.get(feed.event);
      if (!plan) plans.set(feed.event, (plan = { labels: [], readers: [], targets: [] }));
      const { labels, readers } = plan;
      // A label is shared between metrics by its reader: the same reader reads the same value.
      const positions = view.labels.map((label) => {
        const read = feed.labels[label.name];
        if (!read) throw new Error(`${view.name}: no reader for label ${label.name} in ${feed.event}`);
        const at = readers.indexOf(read);
        if (at >= 0) return at;
        labels.push(label);
        return readers.push(read) - 1;
      });
      plan.targets.push({ view, positions, value: feed.value, values: feed.values, record: sink.recorder(view) });
      if (!options.zeroes || !zeroes) continue;
      if ('atStart' in zeroes) for (const values of zeroes.atStart) sink.series(view, values);
      else this.perKindPackage.set(view, zeroes.perKindPackage);
    }
    for (const [event, { labels, readers, targets }] of plans) {
      this.routes[event] = { targets, sets: new LabelSets<S[]>(labels, readers, (values) => this.seriesOf(targets, values)) };
    }
    this.handleRoutedEvents();
  }

  /** A handler of its own for each event a metric follows, and none for the others (they cost nothing then). */
  private handleRoutedEvents(): void {
    const handlers = this as Record<string, unknown>;
    for (const event of REGISTRY_EVENT_NAMES) {
      const route = this.routes[event];
      if (route) handlers[event] = (a: unknown, b?: unknown, c?: unknown, d?: unknown) => this.fire(route, a, b, c, d);
    }
  }

  /** Fixed arity rather than rest arguments: this runs on every SSPI call and should not allocate. */
  private fire(route: Route<S> | undefined, a: unknown, b?: unknown, c?: unknown, d?: unknown): void {
    if (route === undefined || (this.ready !== undefined && !this.ready())) return;
    const series = route.sets.get(a, b, c);
    const targets = route.targets;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!;
      if (target.values !== undefined) {
        const values = target.values(a, b, c, d);
        for (let j = 0; j < values.length; j++) target.record(series[i]!, values[j]!);
      } else {
        target.record(series[i]!, target.value === undefined ? 1 : target.value(a, b, c, d));
      }
    }
  }

  /** The series of each metric an event feeds, for one set of the event's label values. */
  private seriesOf(targets: readonly Target<S>[], values: readonly string[]): S[] {
    return targets.map(({ view, positions }) => {
      const own = positions.map((i) => values[i]!);
      const series = this.sink.series(view, own);
      if (this.perKindPackage.has(view)) this.madeKindPackage(own);
      return series;
    });
  }

  /** A first series of a kind and package: every metric so marked gets its own at 0. */
  private madeKindPackage(values: readonly string[]): void {
    const [kind, pkg] = values;
    const group = `${kind}\u0000${pkg}`;
    if (this.kindPackages.has(group)) return;
    this.kindPackages.add(group);
    for (const [view, rest] of this.perKindPackage) for (const more of rest) this.sink.series(view, [kind!, pkg!, ...more]);
  }
}
