/**
 * What a logged call does to the handle values the double-free guard asks about, read from its
 * function and status alone: the one value it releases or hands out (providers re-issue a freed value
 * at once), and which of the row's key columns holds it; and whether the buffers it allocated are
 * handed out too. The log's filter (as a row is logged) and its scan (when the guard asks) both read
 * a row's effect here.
 */
import { handedOutKind, releasedKind, type SspiFunction } from '../../sspi/functions.js';
import { isSuccess } from '../../sspi/status.js';
import type { HandleKind } from '../../types.js';
import type { KeyColumnName } from './key-column.js';

export interface RowEffect {
  readonly kind: HandleKind;
  /** Releases the value; otherwise hands it out. */
  readonly releases: boolean;
  readonly column: KeyColumnName;
}

const releases = (kind: HandleKind): RowEffect => ({ kind, releases: true, column: kind });
const handsOut = (kind: HandleKind, column: 'out' | 'failedOut'): RowEffect => ({ kind, releases: false, column });

// Made once: asking for a row's effect allocates nothing. A release's value is in its kind's column;
// what a failed call wrote all the same (WinPR's first AcceptSecurityContext), in `failedOut`.
const RELEASES = { credential: releases('credential'), context: releases('context'), buffer: releases('buffer') };
const HANDS_OUT = { credential: handsOut('credential', 'out'), context: handsOut('context', 'out') };
const HANDS_OUT_FAILED = { credential: handsOut('credential', 'failedOut'), context: handsOut('context', 'failedOut') };

/** The one value a call of `fn` that returned `status` releases or hands out, if any. */
export function rowEffect(fn: SspiFunction, status: number): RowEffect | undefined {
  const released = releasedKind(fn);
  if (released !== undefined) return RELEASES[released];
  const kind = handedOutKind(fn);
  if (kind === undefined) return undefined;
  return isSuccess(status) ? HANDS_OUT[kind] : HANDS_OUT_FAILED[kind];
}

/** Whether the buffers the call allocated, if any, are handed out: it succeeded and releases nothing. */
export function handsOutBuffers(fn: SspiFunction, status: number): boolean {
  return releasedKind(fn) === undefined && isSuccess(status);
}
