/**
 * Counters and histograms for the per-call hot path. prom-client's own `inc`/`observe` hash the
 * label object and convert the bucket bound to a string on every call (about 1 µs each, as much as
 * an SSPI call); these keep one series object per label set, which the caller looks up once and
 * bumps with plain arithmetic. They need no prom-client to count: they implement the interface a
 * prom-client `Registry` reads (`name`, `help`, `type`, `get()`), so that a registry made at the
 * first read serves them, with everything counted until then, beside prom-client's own metrics.
 */

type Labels = Record<string, string>;

export interface MetricValue {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** One metric's values as prom-client's `getMetricsAsJSON()` lists them: what threads exchange. */
export interface MetricObject {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: MetricValue[];
  /** How the values of several threads combine (prom-client's aggregator names). */
  aggregator: 'sum' | 'max';
}

/** A metric whose values can be read synchronously (a worker's 'exit' handler cannot wait). */
export interface SnapshotMetric {
  snapshot(): MetricObject;
}

/**
 * A counter or gauge computed from state when read (live handles, agent errors), read the same way
 * as the series below.
 */
export class ComputedMetric implements SnapshotMetric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    readonly labelNames: readonly string[],
    private readonly compute: () => MetricValue[],
    private readonly aggregator: MetricObject['aggregator'] = 'sum',
  ) {}

  get(): Promise<MetricObject> {
    return Promise.resolve(this.snapshot());
  }

  snapshot(): MetricObject {
    return { name: this.name, help: this.help, type: this.type, values: this.compute(), aggregator: this.aggregator };
  }

  /** prom-client's `resetMetrics()` calls it: a value computed from state has nothing of its own to reset. */
  reset(): void {}
}

export interface CounterSeries {
  readonly labels: Labels;
  value: number;
}

export interface HistogramSeries {
  readonly labels: Labels;
  /** Non-cumulative count per bucket; the last slot is +Inf. */
  readonly counts: number[];
  sum: number;
  count: number;
}

abstract class SeriesMetric<S extends { labels: Labels }> implements SnapshotMetric {
  protected readonly byLabels = new Map<string, S>();
  readonly labelNames: readonly string[];
  /** Runs before every read: brings what the series count up to date (the registry's waiting calls). */
  beforeRead: (() => void) | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
  ) {
    this.labelNames = labelNames;
  }

  /** The series for these label values (in `labelNames` order); look it up once, keep it. */
  labels(...values: string[]): S {
    const key = values.join('\u0000');
    let s = this.byLabels.get(key);
    if (!s) {
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      s = this.create(labels);
      this.byLabels.set(key, s);
    }
    return s;
  }

  /** What a prom-client `Registry` reads at scrape time. */
  get(): Promise<MetricObject> {
    return Promise.resolve(this.snapshot());
  }

  snapshot(): MetricObject {
    this.beforeRead?.();
    return this.collect();
  }

  /** Zeroes every series in place: callers keep their series objects (prom-client's resetMetrics). */
  reset(): void {
    for (const s of this.byLabels.values()) this.zero(s);
  }

  protected abstract create(labels: Labels): S;
  protected abstract zero(series: S): void;
  protected abstract collect(): MetricObject;
}

export class FastCounter extends SeriesMetric<CounterSeries> {
  readonly type = 'counter';

  protected create(labels: Labels): CounterSeries {
    return { labels, value: 0 };
  }

  protected zero(series: CounterSeries): void {
    series.value = 0;
  }

  protected collect(): MetricObject {
    const values = [...this.byLabels.values()].map((s) => ({ labels: s.labels, value: s.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

export class FastHistogram extends SeriesMetric<HistogramSeries> {
  readonly type = 'histogram';

  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames);
  }

  observe(series: HistogramSeries, value: number): void {
    const bounds = this.buckets;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    series.counts[i]!++;
    series.sum += value;
    series.count++;
  }

  protected create(labels: Labels): HistogramSeries {
    return { labels, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  protected zero(series: HistogramSeries): void {
    series.counts.fill(0);
    series.sum = 0;
    series.count = 0;
  }

  protected collect(): MetricObject {
    const values: MetricValue[] = [];
    for (const s of this.byLabels.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ labels: { ...s.labels, le: String(le) }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}
