/**
 * The routing both exporters share: a registry listener that, for each event, records into every
 * metric of the catalog the event feeds. An exporter supplies only what it records into (its
 * `MetricSink`); which event feeds which metric, with which labels, is the catalog's.
 */
import type { ForcedRelease, InvalidRelease, LeakReason, RegistryListener, TrackedHandle } from '../types.js';
import { LabelSets } from './label-sets.js';
import { isEventFeed, type MetricEvent, type MetricView, type Reader } from './model.js';

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

interface Route<S> {
  readonly sets: LabelSets<S>;
  readonly value: Reader<number> | undefined;
  readonly record: (series: S, value: number) => void;
}

const EVENTS: readonly MetricEvent[] = [
  'onOpen',
  'onClose',
  'onInvalidRelease',
  'onLeak',
  'onOutOfOrderRelease',
  'onForcedRelease',
  'onUnloadWithLiveHandles',
  'onCall',
];

export class CatalogListener<S> implements RegistryListener {
  private readonly routes = Object.fromEntries(EVENTS.map((e) => [e, [] as Route<S>[]])) as Record<MetricEvent, Route<S>[]>;
  private readonly ready: (() => boolean) | undefined;
  /** The metrics whose series of a kind and package appear together, and the groups already made. */
  private readonly perKindPackage: Array<[LabelSets<S>, readonly (readonly string[])[]]> = [];
  private readonly kindPackages = new Set<string>();

  constructor(views: readonly MetricView[], sink: MetricSink<S>, options: CatalogListenerOptions = {}) {
    this.ready = options.ready;
    for (const view of views) {
      const { feed, zeroes } = view.def;
      if (!isEventFeed(feed)) continue;
      const readers = view.labels.map((label) => {
        const read = feed.labels[label.name];
        if (!read) throw new Error(`${view.name}: no reader for label ${label.name} in ${feed.event}`);
        return read;
      });
      const grouped = options.zeroes && zeroes !== undefined && 'perKindPackage' in zeroes;
      const sets = new LabelSets<S>(view.labels, readers, (values) => sink.series(view, values), grouped ? (values) => this.madeKindPackage(values) : undefined);
      this.routes[feed.event].push({ sets, value: feed.value, record: sink.recorder(view) });
      if (!options.zeroes || !zeroes) continue;
      if ('atStart' in zeroes) for (const values of zeroes.atStart) sets.at(values);
      else this.perKindPackage.push([sets, zeroes.perKindPackage]);
    }
  }

  onOpen(handle: TrackedHandle): void {
    this.fire(this.routes.onOpen, handle);
  }

  onClose(handle: TrackedHandle, lifetimeSeconds: number): void {
    this.fire(this.routes.onClose, handle, lifetimeSeconds);
  }

  onInvalidRelease(event: InvalidRelease): void {
    this.fire(this.routes.onInvalidRelease, event);
  }

  onLeak(handle: TrackedHandle, reason: LeakReason): void {
    this.fire(this.routes.onLeak, handle, reason);
  }

  onOutOfOrderRelease(credential: TrackedHandle): void {
    this.fire(this.routes.onOutOfOrderRelease, credential);
  }

  onForcedRelease(event: ForcedRelease): void {
    this.fire(this.routes.onForcedRelease, event);
  }

  onUnloadWithLiveHandles(library: string): void {
    this.fire(this.routes.onUnloadWithLiveHandles, library);
  }

  onCall(fn: string, status: number, durationSeconds: number): void {
    this.fire(this.routes.onCall, fn, status, durationSeconds);
  }

  /** Fixed arity rather than rest arguments: this runs on every SSPI call and should not allocate. */
  private fire(routes: readonly Route<S>[], a: unknown, b?: unknown, c?: unknown): void {
    if (routes.length === 0 || (this.ready !== undefined && !this.ready())) return;
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i]!;
      route.record(route.sets.get(a, b, c), route.value === undefined ? 1 : route.value(a, b, c));
    }
  }

  /** A first series of a kind and package: every metric so marked gets its own at 0. */
  private madeKindPackage(values: readonly string[]): void {
    const [kind, pkg] = values;
    const group = `${kind}\u0000${pkg}`;
    if (this.kindPackages.has(group)) return;
    this.kindPackages.add(group);
    for (const [sets, rest] of this.perKindPackage) for (const more of rest) sets.at([kind!, pkg!, ...more]);
  }
}
