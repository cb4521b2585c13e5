/**
 * Several processes' reports as one: their leak groups merged by site (the same kind, package,
 * direction, creating function, library, worker or not, suppression and allocation stack), each with
 * the number of processes it leaked in. What a fleet or a parallel test run looks like as a whole.
 */
import { REPORT_FORMAT, type LeakGroup } from '../exporters/leak-report-types.js';
import { formatAge, packageText, plural, RELEASE_FUNCTION } from '../exporters/leak-report-text.js';
import { HANDLE_KINDS, type HandleKind } from '../types.js';
import type { ReportFile } from './read-reports.js';

/** A site's leaks across processes. Handle ids are each process's own, so none is kept. */
export interface MergedGroup extends Omit<LeakGroup, 'handleIds' | 'thread'> {
  /** In how many of the reports it leaked, and their pids. */
  processes: number;
  pids: number[];
  /** Whether its handles were made in worker threads. */
  inWorkers: boolean;
}

export interface MergedReport {
  format: number;
  /** The reports merged: each one's file, pid and total. */
  sources: { path: string; pid: number; total: number }[];
  total: number;
  unsuppressed: number;
  suppressed: number;
  overBudget: number;
  byKind: Record<HandleKind, number>;
  groups: MergedGroup[];
}

function siteKey(g: LeakGroup): string {
  return [g.kind, g.package, g.direction, g.createdBy, g.library, g.thread === undefined ? 'main' : 'worker', g.suppressedBy ?? '', ...g.stack].join('\n');
}

function startGroup(g: LeakGroup, pid: number): MergedGroup {
  const { handleIds: _ids, thread, ...rest } = g;
  return { ...rest, stack: [...g.stack], processes: 1, pids: [pid], inWorkers: thread !== undefined };
}

function addGroup(into: MergedGroup, g: LeakGroup, pid: number): void {
  into.count += g.count;
  into.oldestAgeSeconds = Math.max(into.oldestAgeSeconds, g.oldestAgeSeconds);
  if (g.unsampled) into.unsampled = (into.unsampled ?? 0) + g.unsampled;
  if (g.overBudget) into.overBudget = (into.overBudget ?? 0) + g.overBudget;
  if (!into.pids.includes(pid)) {
    into.pids.push(pid);
    into.processes++;
  }
}

export function mergeReports(files: readonly ReportFile[]): MergedReport {
  const groups = new Map<string, MergedGroup>();
  const byKind = Object.fromEntries(HANDLE_KINDS.map((k) => [k, 0])) as Record<HandleKind, number>;
  const merged: MergedReport = { format: REPORT_FORMAT, sources: [], total: 0, unsuppressed: 0, suppressed: 0, overBudget: 0, byKind, groups: [] };
  for (const { path, report } of files) {
    merged.sources.push({ path, pid: report.pid, total: report.total });
    merged.total += report.total;
    merged.unsuppressed += report.unsuppressed ?? report.total;
    merged.suppressed += report.suppressed ?? 0;
    merged.overBudget += report.overBudget ?? 0;
    for (const kind of HANDLE_KINDS) byKind[kind] += report.byKind[kind] ?? 0;
    for (const g of report.groups) {
      const key = siteKey(g);
      const known = groups.get(key);
      if (known) addGroup(known, g, report.pid);
      else groups.set(key, startGroup(g, report.pid));
    }
  }
  merged.groups = [...groups.values()].sort((a, b) => b.processes - a.processes || b.count - a.count);
  return merged;
}

function formatGroup(g: MergedGroup, reports: number): string[] {
  const lines = [
    '',
    `${g.suppressedBy ? 'Suppressed leak' : 'Leak'} of ${plural(g.count, g.kind)} [${packageText(g)}, ${g.direction}] created by ${g.createdBy} ` +
      `${g.inWorkers ? 'in worker threads ' : ''}(${g.library}), never passed to ${RELEASE_FUNCTION[g.kind]}; ` +
      `in ${g.processes} of ${plural(reports, 'process', 'processes')} (pids ${g.pids.join(', ')}); oldest ${formatAge(g.oldestAgeSeconds)}` +
      (g.suppressedBy ? ` (suppressed by "${g.suppressedBy}")` : ''),
  ];
  if (g.history) lines.push(`    history of one: ${g.history.join(', ')}, never deleted`);
  if (g.stack.length === 0) lines.push('    (no allocation stack)');
  for (const frame of g.stack) lines.push(`    ${frame}`);
  return lines;
}

/** The merged report as text, like the exit report's. */
export function formatMergedReport(merged: MergedReport): string {
  const { credential, context, buffer } = merged.byKind;
  const reports = merged.sources.length;
  const lines = [
    `sspi-agent: ${plural(merged.total, 'SSPI handle')} leaked in ${plural(reports, 'report')} ` +
      `(${plural(credential, 'credential')}, ${plural(context, 'context')}${buffer ? `, ${plural(buffer, 'buffer')}` : ''}), ` +
      `${plural(merged.groups.length, 'allocation site')}`,
  ];
  for (const g of merged.groups) lines.push(...formatGroup(g, reports));
  const suppressed = merged.suppressed ? ` (${merged.suppressed} suppressed)` : '';
  lines.push('', `SUMMARY: sspi-agent: ${plural(merged.total, 'leaked SSPI handle')}${suppressed} in ${plural(merged.groups.length, 'site')} across ${plural(reports, 'process', 'processes')}.`);
  return lines.join('\n') + '\n';
}
