/**
 * The leak report: handles still live when it is made, grouped by allocation site so that a loop
 * leaking thousands of contexts reads as one entry with a count, in the spirit of LeakSanitizer;
 * a context's handshake history, in the spirit of Netty's leak records; and what the forced cleanup
 * did. Built from registry records only; it never holds or prints a handle value or a secret.
 */
import { performance } from 'node:perf_hooks';
import { KeyTrie, formatSites, frameLocation } from '../stacks.js';
import { negotiatedLabel } from '../negotiation.js';
import type { NegotiatedLabel } from '../sspi/negotiation-tokens.js';
import { statusName } from '../sspi/status.js';
import type { Suppressions } from '../suppressions.js';
import type { CallRecord, Direction, ForcedRelease, HandleKind, StaleReason, TrackedHandle } from '../types.js';

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
  /** For a context: its last calls, e.g. `AcceptSecurityContext SEC_I_CONTINUE_NEEDED +0ms`. */
  history?: string[];
  /** For a Negotiate context: the package that actually ran, as its tokens showed it. */
  negotiated?: NegotiatedLabel;
  stale?: StaleReason;
  /** Its JS holder was garbage-collected: nobody could have released it. */
  collected?: boolean;
  /** The worker thread it was created in (absent: the main thread). */
  thread?: number;
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
  /** The history of the group's first handle (contexts). */
  history?: string[];
  /** What its handles negotiated (Negotiate contexts). */
  negotiated?: NegotiatedLabel;
  /** The suppression pattern that matched, if any. */
  suppressedBy?: string;
  /** How many of the group's handles had no stack of their own (sampled stacks): they share its creator. */
  unsampled?: number;
  /** The worker thread its handles were created in (absent: the main thread). */
  thread?: number;
}

/** One release of the forced cleanup. */
export interface CleanupEntry {
  id: number;
  kind: HandleKind;
  function: string;
  status: string;
  result: ForcedRelease['result'];
  /** The worker thread that released it (absent: the main thread). */
  thread?: number;
}

export interface LeakReport {
  reason: string;
  pid: number;
  generatedAt: string;
  total: number;
  /** Leaks not matched by a suppression: what fail-on-leak counts. */
  unsuppressed: number;
  suppressed: number;
  byKind: Record<HandleKind, number>;
  groups: LeakGroup[];
  handles: LeakedHandle[];
  cleanup: CleanupEntry[];
}

export interface ReportOptions {
  suppressions?: Suppressions | undefined;
  cleanup?: readonly ForcedRelease[];
}

const RELEASE_FUNCTION: Record<HandleKind, string> = {
  credential: 'FreeCredentialsHandle',
  context: 'DeleteSecurityContext',
  buffer: 'FreeContextBuffer',
};

function formatHistory(history: readonly CallRecord[] | undefined): string[] | undefined {
  return history?.map((c) => `${c.fn} ${statusName(c.status)} +${Math.round(c.atMs)}ms`);
}

/** A handle's group: its labels (and what a Negotiate context negotiated) and `stackId`, which numbers distinct stack texts (the same groups as keying by the frames). */
function groupOf(groups: KeyTrie<LeakGroup>, h: TrackedHandle, stackId: number): KeyTrie<LeakGroup> {
  return groups.at(h.kind).at(h.package).at(negotiatedLabel(h) ?? '').at(h.direction).at(h.createdBy).at(h.library).at(stackId);
}

/** The frames of a handle with no stack: one array, so it is looked up once like any shared stack. */
const NO_STACK: readonly string[] = [];

/** A distinct stack text: its number and the `file:line:col` its handles list as their site. */
interface StackText {
  id: number;
  site: string;
}

/** `new Date(t).toISOString()`, remembering the last: handles leaked in one loop share milliseconds. */
let lastMs = NaN;
let lastIso = '';
function isoTime(t: number): string {
  const ms = Math.trunc(t); // as Date does
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

function describe(h: TrackedHandle, now: number, site: string): LeakedHandle {
  const entry: LeakedHandle = {
    id: h.id,
    kind: h.kind,
    package: h.package,
    direction: h.direction,
    createdBy: h.createdBy,
    library: h.library,
    createdAt: isoTime(performance.timeOrigin + h.createdAt),
    ageSeconds: (now - h.createdAt) / 1000,
    site,
  };
  if (h.credential) entry.credentialId = h.credential.id;
  const history = formatHistory(h.history);
  if (history) entry.history = history;
  const negotiated = negotiatedLabel(h);
  if (negotiated) entry.negotiated = negotiated;
  if (h.stale) entry.stale = h.stale;
  if (h.collected) entry.collected = true;
  return entry;
}

export function buildLeakReport(handles: readonly TrackedHandle[], reason: string, options: ReportOptions = {}): LeakReport {
  const now = performance.now();
  const groups = new KeyTrie<LeakGroup>();
  const made: LeakGroup[] = [];
  const byKind: Record<HandleKind, number> = { credential: 0, context: 0, buffer: 0 };
  const listed: LeakedHandle[] = [];
  // One V8 formatting per distinct stack rather than per handle (100k leaks took seconds). Handles
  // with one stack then share one frames array, whose text is joined and numbered once; arrays with
  // equal text get one number, so the groups are those of the text, as before.
  formatSites(handles.map((h) => h.site));
  const byArray = new Map<readonly string[], StackText>();
  const byText = new Map<string, number>();
  for (const h of handles) {
    const stack = h.site?.frames() ?? NO_STACK;
    let text = byArray.get(stack);
    if (!text) {
      const joined = stack.join('\n');
      let id = byText.get(joined);
      if (id === undefined) byText.set(joined, (id = byText.size));
      byArray.set(stack, (text = { id, site: frameLocation(stack) }));
    }
    const entry = describe(h, now, text.site);
    byKind[h.kind]++;
    listed.push(entry);
    const slot = groupOf(groups, h, text.id);
    const group = slot.value;
    if (group) {
      group.count++;
      group.handleIds.push(h.id);
      group.oldestAgeSeconds = Math.max(group.oldestAgeSeconds, entry.ageSeconds);
      continue;
    }
    const suppressedBy = options.suppressions?.match(stack, h.createdBy);
    slot.value = {
      kind: h.kind,
      package: h.package,
      direction: h.direction,
      createdBy: h.createdBy,
      library: h.library,
      count: 1,
      oldestAgeSeconds: entry.ageSeconds,
      site: entry.site,
      stack: [...stack],
      handleIds: [h.id],
      ...(entry.history ? { history: entry.history } : {}),
      ...(entry.negotiated ? { negotiated: entry.negotiated } : {}),
      ...(suppressedBy ? { suppressedBy } : {}),
    };
    made.push(slot.value);
  }
  const sorted = mergeUnsampled(made).sort((a, b) => b.count - a.count);
  const suppressed = sorted.filter((g) => g.suppressedBy).reduce((n, g) => n + g.count, 0);
  return {
    reason,
    pid: process.pid,
    generatedAt: new Date().toISOString(),
    total: handles.length,
    unsuppressed: handles.length - suppressed,
    suppressed,
    byKind,
    groups: sorted,
    handles: listed,
    cleanup: (options.cleanup ?? []).map((r) => ({
      id: r.handle.id,
      kind: r.handle.kind,
      function: RELEASE_FUNCTION[r.handle.kind],
      status: statusName(r.status),
      result: r.result,
    })),
  };
}

/** What a handle's creator is, without its stack. */
function creatorKey(g: LeakGroup): string {
  return [g.kind, g.package, g.negotiated ?? '', g.direction, g.createdBy, g.library].join('\n');
}

/**
 * With sampled stacks, handles created after the first few of a function have none. When exactly
 * one stacked group has the same creator, they are that site's (the only one seen leaking), so they
 * join it rather than stand alone as "(no stack)".
 */
function mergeUnsampled(groups: LeakGroup[]): LeakGroup[] {
  const stacked = new Map<string, LeakGroup[]>();
  for (const g of groups) if (g.stack.length > 0) stacked.set(creatorKey(g), [...(stacked.get(creatorKey(g)) ?? []), g]);
  return groups.filter((g) => {
    const candidates = g.stack.length === 0 ? stacked.get(creatorKey(g)) : undefined;
    if (candidates?.length !== 1) return true;
    const [into] = candidates as [LeakGroup];
    into.count += g.count;
    into.handleIds.push(...g.handleIds);
    into.oldestAgeSeconds = Math.max(into.oldestAgeSeconds, g.oldestAgeSeconds);
    into.unsampled = (into.unsampled ?? 0) + g.count;
    return false;
  });
}

function plural(n: number, one: string, many = one + 's'): string {
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

/** `Negotiate (negotiated Kerberos)`: which package ran matters more than which one was asked for. */
function packageText(g: LeakGroup): string {
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
  if (g.unsampled) lines.push(`    (${g.unsampled} of them without a sampled stack of their own; this is the only site seen creating such handles)`);
  if (g.stack.length === 0) lines.push('    (no allocation stack: SSPI_AGENT_STACKS is off, or this allocation was not sampled)');
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
  lines.push('', `SUMMARY: sspi-agent: ${plural(report.total, 'leaked SSPI handle')}${suppressed} in ${plural(report.groups.length, 'site')}.`);
  return lines.join('\n') + '\n';
}
