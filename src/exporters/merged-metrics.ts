/**
 * The metrics of several threads as one: what `/metrics` serves for the process. Each thread's agent
 * keeps its own series; their values combine by the aggregator the catalog gives the metric (sums,
 * and the maximum for the oldest handle's age), as prom-client's cluster aggregation does for
 * processes.
 */
import type { MetricObjectWithValues, MetricValue as PromMetricValue } from 'prom-client';
import { metricNamed } from '../metrics/catalog.js';
import { promClient } from './prom-client.js';
import type { MetricObject, MetricValue } from './series.js';

function valueKey(v: MetricValue): string {
  const labels = Object.keys(v.labels)
    .sort()
    .map((k) => `${k}=${v.labels[k]}`)
    .join(',');
  return `${v.metricName ?? ''}{${labels}}`;
}

/** The metrics of all the lists, each metric's values combined label set by label set. */
export function mergeSnapshots(lists: readonly (readonly MetricObject[])[]): MetricObject[] {
  const merged = new Map<string, { metric: MetricObject; values: Map<string, MetricValue> }>();
  for (const list of lists) {
    for (const metric of list) {
      let entry = merged.get(metric.name);
      if (!entry) merged.set(metric.name, (entry = { metric: { ...metric, values: [] }, values: new Map() }));
      const combine = metricNamed(metric.name)?.aggregator === 'max' ? Math.max : (a: number, b: number) => a + b;
      for (const v of metric.values) {
        const key = valueKey(v);
        const seen = entry.values.get(key);
        entry.values.set(key, seen ? { ...seen, value: combine(seen.value, v.value) } : { ...v, labels: { ...v.labels } });
      }
    }
  }
  return [...merged.values()].map(({ metric, values }) => ({ ...metric, values: [...values.values()] }));
}

/**
 * What an ended thread leaves in the process's totals: its counts, and its handles still live (SSPI
 * handles belong to the process, not the thread: what a worker never released stays allocated).
 * The metrics that describe the thread itself go with it: its stale counts, and its ages, which
 * workers/ended-workers.ts keeps apart for the handles left live (they go on aging).
 */
export function endedThreadMetrics(metrics: readonly MetricObject[]): MetricObject[] {
  return metrics.filter((m) => !metricNamed(m.name)?.perThread);
}

/** The exposition text of merged metrics. */
export function exposition(metrics: readonly MetricObject[]): Promise<string> {
  return promClient().AggregatorRegistry.aggregate([metrics as unknown as MetricObjectWithValues<PromMetricValue<string>>[]]).metrics();
}
