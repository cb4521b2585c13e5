/**
 * The PromQL pieces the dashboard's panels are made of. Metric names are the agent's contract, from
 * its metric catalog (src/metrics/catalog.ts, read from the build in dist/: `npm run build` first);
 * the recorded series are defined in ../prometheus/sspi-agent-rules.yml, which the alerts read too.
 * The dashboard lint test checks both against their sources.
 */
import { METRICS } from '../../dist/metrics/catalog.js';

/** The agent's metric names, by catalog key: read from the agent's own catalog, never restated. */
export const M = METRICS;

/** Series recorded by the rules in ../prometheus/sspi-agent-rules.yml, shared with the alerts. */
export const RECORDED = {
  liveDeriv1h: 'instance:sspi_handles_live:deriv1h',
  errorRatio5m: 'instance:sspi_call_errors:ratio_rate5m',
} as const;

/**
 * The label matchers of a call that returned an error: SEC_E_* but SEC_E_OK, a named NTSTATUS (every
 * one the agent names is an error, 0xC…), or 0x8…–0xf… codes.
 */
export const ERROR_STATUS = 'status=~"SEC_E_.+|STATUS_.+|0x[89a-f].+", status!="SEC_E_OK"';

/** Thresholds of SspiCallErrorRatioHigh (warning, critical), drawn on the error-ratio panel. */
export const ERROR_RATIO_THRESHOLDS = { warning: 0.2, critical: 0.5 } as const;

/** Grafana's rate window: at least four scrapes, so a rate() always has two samples. */
export const RATE = '$__rate_interval';

/** `metric{job=~"$job", instance=~"$instance", …extra}`: every query is scoped by the two variables. */
export function sel(metric: string, extra?: string): string {
  const matchers = ['job=~"$job"', 'instance=~"$instance"', ...(extra ? [extra] : [])];
  return `${metric}{${matchers.join(', ')}}`;
}

/** `rate(metric{…}[$__rate_interval])`. */
export function rate(metric: string, extra?: string): string {
  return `rate(${sel(metric, extra)}[${RATE}])`;
}

/** The q-quantile of a histogram over the rate window, by `by` (plus `le`). */
export function quantile(q: number, histogram: string, by: string): string {
  return `histogram_quantile(${q}, sum by (${by}, le) (${rate(`${histogram}_bucket`)}))`;
}

/** Events per minute, for counters that count rare events (leaks, double frees): easier to read than per second. */
export function perMinute(by: string, metric: string, extra?: string): string {
  return `60 * sum by (${by}) (${rate(metric, extra)})`;
}

/** The share of calls that returned an error, over the rate window, per `by`. */
export function errorRatio(by?: string): string {
  const agg = by ? `sum by (${by})` : 'sum';
  const all = `${agg} (${rate(M.calls)})`;
  // `or … * 0`: 0 rather than no data while every call succeeds (no error series exists yet).
  return `(${agg} (${rate(M.calls, ERROR_STATUS)}) or ${all} * 0) / ${all}`;
}
