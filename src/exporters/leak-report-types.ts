/**
 * The leak report's shape: what the JSON report file holds, what a worker thread hands the main
 * thread, and what the exit text is written from.
 */
import type { NegotiatedLabel } from '../sspi/negotiation-tokens.js';
import type { Direction, ForcedRelease, HandleKind, StaleReason } from '../types.js';

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
  /** How many of the group's handles had no stack of their own (sampled stacks, or over the budget): they share its creator. */
  unsampled?: number;
  /** How many of the group's handles have no stack because stack capture was over its CPU budget. */
  overBudget?: number;
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

/**
 * The version of the report's JSON: raised when a field changes meaning or goes, so that a reader
 * (`sspi-agent report`) can refuse a report newer than it understands. Reports without it are 0.
 */
export const REPORT_FORMAT = 1;

export interface LeakReport {
  /** REPORT_FORMAT of the agent that wrote it. */
  format: number;
  reason: string;
  pid: number;
  generatedAt: string;
  total: number;
  /** Leaks not matched by a suppression: what fail-on-leak counts. */
  unsuppressed: number;
  suppressed: number;
  /** Leaked handles with no stack because stack capture was over its CPU budget (SSPI_AGENT_STACK_BUDGET). */
  overBudget: number;
  byKind: Record<HandleKind, number>;
  groups: LeakGroup[];
  handles: LeakedHandle[];
  cleanup: CleanupEntry[];
}
