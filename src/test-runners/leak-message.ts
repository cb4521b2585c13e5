/**
 * What a test plugin says of a test's (or a suite's) leaks: one line per allocation site, with the
 * kind, package and direction (as the exit report writes them), the creating function, the
 * allocation `file:line:col` and the frames down to the test's own file (paths relative to the
 * directory the tests run from) and, for a context, its handshake history. No handle value, no secret.
 */
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LeakGroup } from '../exporters/leak-report.js';
import { packageText, plural } from '../exporters/leak-report-text.js';

/** Whose leaks: a test, or a suite (what its `before`/`beforeEach`/`after` hooks made). */
export interface LeakOwner {
  readonly kind: 'test' | 'suite';
  /** The full title, as the runner shows it (`outer inner test` for mocha, `outer > test` for node:test). */
  readonly title: string;
  readonly file: string | undefined;
}

/** A site's handles, from this thread's registry or a worker thread's report. */
export type SiteLeak = LeakGroup & { thread?: number };

/** A path or `file:` URL (with its `:line:col`), relative to `cwd` when that is shorter. */
export function shortPath(location: string, cwd = process.cwd()): string {
  const position = /(:\d+)*$/.exec(location)?.[0] ?? '';
  let path = location.slice(0, location.length - position.length);
  if (path.startsWith('file://')) {
    try {
      path = fileURLToPath(path);
    } catch {
      return location;
    }
  }
  if (!isAbsolute(path)) return location;
  const rel = relative(cwd, path);
  return (rel.length < path.length ? rel : path) + position;
}

/** A stack frame with its file shortened: `at fn (file:line:col)` or `at file:line:col`. */
function shortFrame(frame: string): string {
  const m = /^(at .*\()(.+)\)$/.exec(frame) ?? /^(at )(.+)()$/.exec(frame);
  return m ? `${m[1]}${shortPath(m[2]!)}${m[1]!.endsWith('(') ? ')' : ''}` : frame;
}

/** The frames below the allocation, down to the first in the owner's file (the test's own line), at most STACK_LINES. */
const STACK_LINES = 6;
function callerFrames(stack: readonly string[], file: string | undefined): string[] {
  const frames = stack.slice(1, 1 + STACK_LINES);
  const own = file === undefined ? -1 : frames.findIndex((f) => f.includes(file));
  return own < 0 ? frames : frames.slice(0, own + 1);
}

function siteLines(group: SiteLeak, file: string | undefined): string[] {
  const where = group.thread !== undefined ? ` in worker thread ${group.thread}` : '';
  const lines = [
    `  ${plural(group.count, group.kind)} [${packageText(group)}, ${group.direction}] created by ${group.createdBy}${where} at ${shortPath(group.site)}`,
  ];
  for (const frame of callerFrames(group.stack, file)) lines.push(`      ${shortFrame(frame)}`);
  if (group.history) lines.push(`    history: ${group.history.join(', ')}`);
  return lines;
}

/** The message, or undefined when every site is suppressed. */
export function leakMessage(owner: LeakOwner, sites: readonly SiteLeak[]): string | undefined {
  const shown = sites.filter((s) => !s.suppressedBy);
  if (shown.length === 0) return undefined;
  const count = shown.reduce((n, s) => n + s.count, 0);
  const suppressed = sites.reduce((n, s) => n + (s.suppressedBy ? s.count : 0), 0);
  const file = owner.file ? ` (${shortPath(owner.file)})` : '';
  const made = owner.kind === 'suite' ? ', made in its before/beforeEach/after hooks,' : '';
  const lines = [`sspi-agent: ${owner.kind} "${owner.title}"${file} left ${plural(count, 'SSPI handle')}${made} live:`];
  for (const site of shown) lines.push(...siteLines(site, owner.file));
  if (suppressed > 0) lines.push(`  (and ${suppressed} suppressed)`);
  return lines.join('\n');
}
