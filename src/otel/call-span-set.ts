// Apart from semconv.ts (which re-exports it): the agent's start needs these sets, the span names
// and attributes only once spans are made.

/**
 * Which SSPI calls become spans (SSPI_AGENT_CALL_SPANS): `work`, the calls that do work or may wait
 * on a KDC; `all`, those and the releases of credentials and contexts; `off`, none.
 */
export type CallSpans = 'off' | 'work' | 'all';

/**
 * The functions whose calls are spans by default (named after the function). Releases take a
 * microsecond: a release that goes wrong is an `sspi.misuse` or `sspi.leak` span of its own, linked
 * to the creating call's span. Queries, signatures and buffer frees are counted in metrics only.
 */
const WORK_CALLS = [
  'AcquireCredentialsHandleA',
  'AcquireCredentialsHandleW',
  'InitializeSecurityContextA',
  'InitializeSecurityContextW',
  'AcceptSecurityContext',
  'CompleteAuthToken',
  'ImportSecurityContextA',
  'ImportSecurityContextW',
  'ExportSecurityContext',
];

export const CALL_SPAN_FUNCTIONS: Readonly<Record<CallSpans, ReadonlySet<string>>> = {
  off: new Set(),
  work: new Set(WORK_CALLS),
  all: new Set([...WORK_CALLS, 'DeleteSecurityContext', 'FreeCredentialsHandle']),
};
