/** The leak report as the text written to stderr at exit, in the spirit of LeakSanitizer's. */
import type { CleanupEntry, LeakGroup, LeakReport } from './leak-report-types.js';
import type { HandleKind } from '../types.js';

export const RELEASE_FUNCTION: Record<HandleKind, string> = {
  credential: 'FreeCredentialsHandle',
  context: 'DeleteSecurityContext',
  buffer: 'FreeContextBuffer',
};

export function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function formatAge(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 120) return `${seconds.toFixed(1)}s`;
  return `${Math.round(seconds / 60)}min`;
}

/** Handle ids as a short list: a loop's thousands of leaks are not worth a line each. */
function formatIds(ids: readonly number[]): string {
  const shown = ids.slice(0, 10).map((id) => `#${id}`).join(', ');
  return ids.length > 10 ? `${shown}, … (${ids.length - 10} more)` : shown;
}

/** `Negotiate (negotiated Kerberos)`: which package ran matters more than which one was asked for. */
export function packageText(g: Pick<LeakGroup, 'package' | 'negotiated'>): string {
  return g.negotiated ? `${g.package} (negotiated ${g.negotiated})` : g.package;
}

function formatGroup(g: LeakGroup): string[] {
  const lines = [
    '',
    `${g.suppressedBy ? 'Suppressed leak' : 'Leak'} of ${plural(g.count, g.kind)} [${packageText(g)}, ${g.direction}] created by ${g.createdBy} ` +
      (g.thread === undefined ? '' : `in worker thread ${g.thread} `) +
      `(${g.library}), never passed to ${RELEASE_FUNCTION[g.kind]}; oldest ${formatAge(g.oldestAgeSeconds)}; handles ${formatIds(g.handleIds)}` +
      (g.suppressedBy ? ` (suppressed by "${g.suppressedBy}")` : ''),
  ];
  if (g.history) lines.push(`    history of #${g.handleIds[0]}: ${g.history.join(', ')}, never deleted`);
  if (g.unsampled) lines.push(`    (${g.unsampled} of them without a stack of their own; this is the only site seen leaking such handles)`);
  if (g.stack.length === 0) lines.push(`    (no allocation stack: ${g.overBudget === g.count ? 'stack capture was over its CPU budget' : 'SSPI_AGENT_STACKS is off or sampled, or stack capture was over its CPU budget'})`);
  for (const frame of g.stack) lines.push(`    ${frame}`);
  return lines;
}

function formatCleanup(cleanup: readonly CleanupEntry[]): string[] {
  if (cleanup.length === 0) return [];
  const failed = cleanup.filter((c) => c.result === 'failed').length;
  const lines = ['', `Forced cleanup (SSPI_AGENT_CLEANUP), contexts first, then credentials, then buffers: ${plural(cleanup.length, 'release')}, ${failed} failed`];
  for (const c of cleanup) lines.push(`    ${c.function}(#${c.id}${c.thread === undefined ? '' : ` in worker thread ${c.thread}`}) → ${c.status}`);
  return lines;
}

/** The text written to stderr. */
export function formatLeakReport(report: LeakReport): string {
  const { credential, context, buffer } = report.byKind;
  const lines = [
    `==${report.pid}== sspi-agent: ${plural(report.total, 'SSPI handle')} still live at ${report.reason} ` +
      `(${plural(credential, 'credential')}, ${plural(context, 'context')}${buffer ? `, ${plural(buffer, 'buffer')}` : ''}), ` +
      `${plural(report.groups.length, 'allocation site')}`,
  ];
  for (const g of report.groups) lines.push(...formatGroup(g));
  lines.push(...formatCleanup(report.cleanup));
  const suppressed = report.suppressed ? ` (${report.suppressed} suppressed)` : '';
  if (report.overBudget) lines.push('', overBudgetNote(report.overBudget));
  lines.push('', `SUMMARY: sspi-agent: ${plural(report.total, 'leaked SSPI handle')}${suppressed} in ${plural(report.groups.length, 'site')}.`);
  return lines.join('\n') + '\n';
}

/** Why some leaks have no stack under the budget, and the two ways to get one. */
export function overBudgetNote(count: number): string {
  return (
    `${plural(count, 'handle')} without stack: stack capture was over its CPU budget when they were made ` +
    '(SSPI_AGENT_STACK_BUDGET, 1% of one core by default). SSPI_AGENT_STACKS=all records a stack for every handle; ' +
    'a larger SSPI_AGENT_STACK_BUDGET records more.'
  );
}
