/**
 * The leak report: handles still live when it is made, grouped by allocation site so that a loop
 * leaking thousands of contexts reads as one entry with a count, in the spirit of LeakSanitizer;
 * a context's handshake history, in the spirit of Netty's leak records; and what the forced cleanup
 * did. Built from registry records only; it never holds or prints a handle value or a secret.
 */
import * as clock from '../core/clock.js';
import { KeyTrie, OVER_BUDGET, formatSites, frameLocation } from '../core/stacks.js';
import { negotiatedLabel } from '../core/negotiation.js';
import { statusName } from '../sspi/status-names.js';
import type { Suppressions } from '../suppressions.js';
import type { CallRecord, ForcedRelease, HandleKind, TrackedHandle } from '../types.js';
import { RELEASE_FUNCTION } from './leak-report-text.js';
import { REPORT_FORMAT, type LeakedHandle, type LeakGroup, type LeakReport } from './leak-report-types.js';

export type { CleanupEntry, LeakedHandle, LeakGroup, LeakReport } from './leak-report-types.js';
export { REPORT_FORMAT } from './leak-report-types.js';
export { formatLeakReport, overBudgetNote } from './leak-report-text.js';

export interface ReportOptions {
  suppressions?: Suppressions | undefined;
  cleanup?: readonly ForcedRelease[];
}

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
    createdAt: isoTime(clock.timeOrigin() + h.createdAt),
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
  const now = clock.now();
  const groups = new KeyTrie<LeakGroup>();
  const made: LeakGroup[] = [];
  const byKind: Record<HandleKind, number> = { credential: 0, context: 0, buffer: 0 };
  const listed: LeakedHandle[] = [];
  let overBudget = 0;
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
    const skipped = h.site === OVER_BUDGET;
    if (skipped) overBudget++;
    if (group) {
      group.count++;
      if (skipped) group.overBudget = (group.overBudget ?? 0) + 1;
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
      ...(skipped ? { overBudget: 1 } : {}),
    };
    made.push(slot.value);
  }
  const sorted = mergeUnsampled(made).sort((a, b) => b.count - a.count);
  const suppressed = sorted.filter((g) => g.suppressedBy).reduce((n, g) => n + g.count, 0);
  return {
    format: REPORT_FORMAT,
    reason,
    pid: process.pid,
    generatedAt: new Date().toISOString(),
    total: handles.length,
    unsuppressed: handles.length - suppressed,
    suppressed,
    overBudget,
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
    // Handles the budget left without a stack are kept apart: they are often the late leaks at a site
    // never seen before, which the one stacked group of their creator would wrongly name.
    const candidates = g.stack.length === 0 && !g.overBudget ? stacked.get(creatorKey(g)) : undefined;
    if (candidates?.length !== 1) return true;
    const [into] = candidates as [LeakGroup];
    into.count += g.count;
    into.handleIds.push(...g.handleIds);
    into.oldestAgeSeconds = Math.max(into.oldestAgeSeconds, g.oldestAgeSeconds);
    into.unsampled = (into.unsampled ?? 0) + g.count;
    return false;
  });
}
