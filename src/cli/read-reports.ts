/**
 * The JSON reports the CLI is given (SSPI_AGENT_REPORT_FILE of several processes), read and checked
 * before anything is merged: a bad file fails the whole command with a message naming it, so that no
 * output is ever made from part of the input.
 */
import { readFileSync } from 'node:fs';
import { REPORT_FORMAT, type LeakReport } from '../exporters/leak-report-types.js';

/** One report and the file it came from. */
export interface ReportFile {
  readonly path: string;
  readonly report: LeakReport;
}

/** Bad input: the message names the file and what is wrong with it. */
export class InputError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What makes a parsed JSON value an agent's report: the fields the merge reads, of the right types. */
function reportProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not a JSON object';
  if (!Array.isArray(value.groups) || typeof value.total !== 'number' || !isObject(value.byKind) || typeof value.pid !== 'number') {
    return 'not an sspi-agent report (no "groups", "total", "byKind" and "pid")';
  }
  const format = value.format ?? 0;
  if (typeof format !== 'number') return `its "format" is ${JSON.stringify(format)}, not a number`;
  if (format > REPORT_FORMAT) return `a report of format ${format}, newer than this sspi-agent reads (${REPORT_FORMAT}): use the sspi-agent that wrote it`;
  if (!value.groups.every((g) => isObject(g) && typeof g.count === 'number' && typeof g.kind === 'string' && Array.isArray(g.stack))) {
    return 'a group without "count", "kind" or "stack"';
  }
  return undefined;
}

export function readReport(path: string): ReportFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot be read (${code === 'ENOENT' ? 'no such file' : (code ?? String(err))})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${path}: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const problem = reportProblem(value);
  if (problem) throw new InputError(`${path}: ${problem}`);
  return { path, report: value as LeakReport };
}

export function readReports(paths: readonly string[]): ReportFile[] {
  if (paths.length === 0) throw new InputError('no report file given');
  return paths.map(readReport);
}
