/**
 * A suppressions file (SSPI_AGENT_SUPPRESSIONS) that covers every leak site of the merged reports, so
 * that FAIL_ON_LEAK (and the test plugins) fail only on sites that are new since. Each site is one
 * line: a pattern per frame of its allocation stack, `;`-separated (all must match), each the frame's
 * file and line without its column or the path of the directory the baseline is made in, and with `*`
 * for the path separators, so that another checkout of the same code (or another OS) matches it. A comment above says what the site leaked.
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { plural } from '../exporters/leak-report-text.js';
import type { MergedGroup, MergedReport } from './merge-reports.js';

/** `at fn (file:///dir/app.mjs:12:5)` → `*app.mjs:12:*` relative to `cwd`; undefined for a frame with no location. */
function framePattern(frame: string, cwd: string): string | undefined {
  const location = /\(([^()]+)\)$/.exec(frame)?.[1] ?? /^at (.+)$/.exec(frame)?.[1];
  const m = location ? /^(.*):(\d+):\d+$/.exec(location) : null;
  if (!m) return undefined;
  let file = m[1]!;
  if (file.startsWith('file://')) file = fileURLToPath(file);
  const inside = relative(cwd, file);
  const shown = inside.startsWith('..') ? file : inside;
  return `*${shown.replace(/[\\/]/g, '*')}:${m[2]}:*`;
}

function comment(g: MergedGroup, reports: number): string {
  return `# ${plural(g.count, g.kind)} [${g.package}, ${g.direction}] created by ${g.createdBy}, in ${g.processes} of ${plural(reports, 'process', 'processes')}`;
}

function entry(g: MergedGroup, reports: number, cwd: string): string[] {
  if (g.suppressedBy) return [comment(g, reports) + ' (suppressed before)', `leak:${g.suppressedBy}`];
  const frames = g.stack.map((f) => framePattern(f, cwd)).filter((p): p is string => p !== undefined);
  if (frames.length === 0) return [comment(g, reports), '# not covered: no allocation stack (SSPI_AGENT_STACKS=all names its site)'];
  return [comment(g, reports), `leak:${frames.join(';')}`];
}

export function baselineText(merged: MergedReport, cwd = process.cwd()): string {
  const reports = merged.sources.length;
  const lines = [
    `# sspi-agent suppressions: the ${plural(merged.groups.length, 'leak site')} of ${plural(reports, 'report')}, written by \`sspi-agent baseline\`.`,
    '# Each line matches one site: every `;`-separated pattern matches a frame of its allocation stack.',
  ];
  const seen = new Set<string>();
  for (const g of merged.groups) {
    const [note, ...rest] = entry(g, reports, cwd);
    const line = rest.at(-1)!;
    if (line.startsWith('leak:') && seen.has(line)) continue;
    seen.add(line);
    lines.push('', note!, ...rest);
  }
  return lines.join('\n') + '\n';
}
