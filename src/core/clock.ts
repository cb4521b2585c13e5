/**
 * The agent's monotonic clock: `performance.now()` of node:perf_hooks, in milliseconds since the
 * process's `timeOrigin`. The module is taken from Node at the first read (the first SSPI call, a
 * report) rather than imported: an ES import of node:perf_hooks loads it, and the performance
 * timeline behind it, at every start, some 2 ms (see "Start-up" in docs/architecture.md). Node's
 * own, not the global `performance`, which an app's fake timers may replace.
 */
import type { Performance } from 'node:perf_hooks';

let performance: Performance | undefined;

const clock = (): Performance => (performance ??= process.getBuiltinModule('node:perf_hooks').performance);

/** `performance.now()`. */
export function now(): number {
  return clock().now();
}

/** `performance.timeOrigin`: the wall-clock time (ms since the epoch) `now()` counts from. */
export function timeOrigin(): number {
  return clock().timeOrigin;
}
