/**
 * The leak report: handles still live when it is made, grouped by allocation site so that a loop
 * leaking thousands of contexts reads as one entry with a count, in the spirit of LeakSanitizer.
 * Built from registry records only; it never holds or prints a handle value or a secret.
 */
import { performance } from 'node:perf_hooks';
import { siteLocation } from '../stacks.js';
import type { Direction, HandleKind, TrackedHandle } from '../types.js';

/** One leaked handle, as the JSON report lists it. */
export interface LeakedHandle {
  id: number;
  kind: HandleKind;
  package: string;
  direction: Direction;
  createdBy: string;
  library: string;
  createdAt: string;
  ageSeconds: number;
  /** For a context: the id of the credential it was made from. */
  credentialId?: number;
  /** `file:line:col` of the first app frame, or `(no stack)`. */
  site: string;
}

/** Leaked handles that share kind, package, direction, creating function and allocation stack. */
export interface LeakGroup {
  kind: HandleKind;
  package: string;
  direction: Direction;
  createdBy: string;
  library: string;
  count: number;
  oldestAgeSeconds: number;
  site: string;
  stack: string[];
  handleIds: number[];
}

export interface LeakReport {
  reason: string;
  pid: number;
  generatedAt: string;
  total: number;
  byKind: Record<HandleKind, number>;
  groups: LeakGroup[];
  handles: LeakedHandle[];
}

function groupKey(h: TrackedHandle, stack: readonly string[]): string {
  return [h.kind, h.package, h.direction, h.createdBy, h.library, ...stack].join('\n');
}

export function buildLeakReport(handles: readonly TrackedHandle[], reason: string): LeakReport {
  const now = performance.now();
  const groups = new Map<string, LeakGroup>();
  const byKind: Record<HandleKind, number> = { credential: 0, context: 0 };
  const listed: LeakedHandle[] = [];
  for (const h of handles) {
    const stack = h.site?.frames() ?? [];
    const site = siteLocation(h.site);
    const ageSeconds = (now - h.createdAt) / 1000;
    byKind[h.kind]++;
    listed.push({
      id: h.id,
      kind: h.kind,
      package: h.package,
      direction: h.direction,
      createdBy: h.createdBy,
      library: h.library,
      createdAt: new Date(h.createdAtEpochMs).toISOString(),
      ageSeconds,
      ...(h.credential ? { credentialId: h.credential.id } : {}),
      site,
    });
    const key = groupKey(h, stack);
    const group = groups.get(key);
    if (group) {
      group.count++;
      group.handleIds.push(h.id);
      group.oldestAgeSeconds = Math.max(group.oldestAgeSeconds, ageSeconds);
    } else {
      groups.set(key, {
        kind: h.kind,
        package: h.package,
        direction: h.direction,
        createdBy: h.createdBy,
        library: h.library,
        count: 1,
        oldestAgeSeconds: ageSeconds,
        site,
        stack: [...stack],
        handleIds: [h.id],
      });
    }
  }
  return {
    reason,
    pid: process.pid,
    generatedAt: new Date().toISOString(),
    total: handles.length,
    byKind,
    groups: [...groups.values()].sort((a, b) => b.count - a.count),
    handles: listed,
  };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function formatAge(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 120) return `${seconds.toFixed(1)}s`;
  return `${Math.round(seconds / 60)}min`;
}

/** Handle ids as a short list: a loop's thousands of leaks are not worth a line each. */
function formatIds(ids: readonly number[]): string {
  const shown = ids.slice(0, 10).map((id) => `#${id}`).join(', ');
  return ids.length > 10 ? `${shown}, … (${ids.length - 10} more)` : shown;
}

/** The text written to stderr. */
export function formatLeakReport(report: LeakReport): string {
  const { credential, context } = report.byKind;
  const lines = [
    `==${report.pid}== sspi-agent: ${plural(report.total, 'SSPI handle', 'SSPI handles')} still live at ${report.reason} ` +
      `(${plural(credential, 'credential', 'credentials')}, ${plural(context, 'context', 'contexts')}), ` +
      `${plural(report.groups.length, 'allocation site', 'allocation sites')}`,
  ];
  for (const g of report.groups) {
    const release = g.kind === 'credential' ? 'FreeCredentialsHandle' : 'DeleteSecurityContext';
    lines.push(
      '',
      `Leak of ${plural(g.count, g.kind, g.kind + 's')} [${g.package}, ${g.direction}] created by ${g.createdBy} ` +
        `(${g.library}), never passed to ${release}; oldest ${formatAge(g.oldestAgeSeconds)}; handles ${formatIds(g.handleIds)}`,
    );
    if (g.stack.length === 0) lines.push('    (no allocation stack: SSPI_AGENT_STACKS=off)');
    for (const frame of g.stack) lines.push(`    ${frame}`);
  }
  lines.push('', `SUMMARY: sspi-agent: ${plural(report.total, 'leaked SSPI handle', 'leaked SSPI handles')} in ${plural(report.groups.length, 'site', 'sites')}.`);
  return lines.join('\n') + '\n';
}
