/**
 * The process's leak report with what worker threads left: each worker closes its own books (its
 * handles, its stacks, its cleanup) and hands the main thread its report; the process's report lists
 * them beside the main thread's, every entry marked with the worker's thread id.
 */
import type { LeakReport } from './leak-report.js';

/** A worker thread's report, as it ended. */
export interface ThreadReport {
  threadId: number;
  report: LeakReport;
}

function tagged<T extends object>(items: readonly T[], thread: number): (T & { thread: number })[] {
  return items.map((item) => ({ ...item, thread }));
}

export function withThreadReports(main: LeakReport, threads: readonly ThreadReport[]): LeakReport {
  if (threads.length === 0) return main;
  const merged: LeakReport = { ...main, byKind: { ...main.byKind }, groups: [...main.groups], handles: [...main.handles], cleanup: [...main.cleanup] };
  for (const { threadId, report } of threads) {
    merged.total += report.total;
    merged.unsuppressed += report.unsuppressed;
    merged.suppressed += report.suppressed;
    merged.overBudget += report.overBudget;
    for (const kind of Object.keys(merged.byKind) as (keyof LeakReport['byKind'])[]) merged.byKind[kind] += report.byKind[kind];
    merged.groups.push(...tagged(report.groups, threadId));
    merged.handles.push(...tagged(report.handles, threadId));
    merged.cleanup.push(...tagged(report.cleanup, threadId));
  }
  return merged;
}
