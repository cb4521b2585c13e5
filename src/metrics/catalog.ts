/**
 * Every metric the agent exports, once: its Prometheus name (a contract dashboards and alert rules
 * are built on: change one and you break users' alerts), help, unit, type, labels, and the registry
 * event or collect function that feeds it. The Prometheus series, the OpenTelemetry instruments, the
 * README's and docs' metrics tables and the dashboards' names are all made from this table; a test
 * fails when an exporter shows anything else.
 */
import * as clock from '../core/clock.js';
import { agentErrorCounts } from '../diagnostics.js';
import {
  ATTR_SSPI_AGENT_ERROR_WHERE,
  ATTR_SSPI_FUNCTION,
  ATTR_SSPI_HANDLE_DIRECTION,
  ATTR_SSPI_HANDLE_KIND,
  ATTR_SSPI_LEAK_REASON,
  ATTR_SSPI_MISUSE_REASON,
  ATTR_SSPI_NEGOTIATED_PACKAGE,
  ATTR_SSPI_PACKAGE,
  ATTR_SSPI_RELEASE_RESULT,
  ATTR_SSPI_STATUS,
} from '../otel/semconv.js';
import { NEGOTIATED_LABELS, type NegotiatedLabel } from '../sspi/negotiation-tokens.js';
import { NEGOTIATE_PACKAGE } from '../sspi/packages.js';
import { statusName } from '../sspi/status-names.js';
import {
  FORCED_RESULTS,
  HANDLE_KINDS,
  INVALID_RELEASE_REASONS,
  LEAK_REASONS,
  STALE_REASONS,
  type ForcedRelease,
  type HandleKind,
  type InvalidRelease,
  type LeakReason,
  type TrackedHandle,
} from '../types.js';
import { collect, on, onEach, type Label, type MetricDef } from './model.js';

/** Status labels one function may have; past this, further codes count as `other`. */
export const MAX_STATUSES_PER_FUNCTION = 32;

const KIND: Label = { name: 'kind', attribute: ATTR_SSPI_HANDLE_KIND };
const PACKAGE: Label = { name: 'package', attribute: ATTR_SSPI_PACKAGE };
const DIRECTION: Label = { name: 'direction', attribute: ATTR_SSPI_HANDLE_DIRECTION };
const LEAK_REASON: Label = { name: 'reason', attribute: ATTR_SSPI_LEAK_REASON };
const MISUSE_REASON: Label = { name: 'reason', attribute: ATTR_SSPI_MISUSE_REASON };
const RESULT: Label = { name: 'result', attribute: ATTR_SSPI_RELEASE_RESULT };
const FUNCTION: Label = { name: 'function', attribute: ATTR_SSPI_FUNCTION };
const STATUS: Label = { name: 'status', attribute: ATTR_SSPI_STATUS, format: (code) => statusName(code as number), cap: MAX_STATUSES_PER_FUNCTION };
const NEGOTIATED: Label = { name: 'negotiated', attribute: ATTR_SSPI_NEGOTIATED_PACKAGE };
const WHERE: Label = { name: 'where', attribute: ATTR_SSPI_AGENT_ERROR_WHERE };

/** Handle lifetimes run from a failed login's milliseconds to a service credential's days. */
export const LIFETIME_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 21600, 86400];

/** SSPI calls run from a cached query's microseconds to a Kerberos round trip's seconds. */
export const CALL_DURATION_BUCKETS = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

const kind = (handle: TrackedHandle) => handle.kind;
const pkg = (handle: TrackedHandle) => handle.package;
const fn = (name: string) => name;
/** A batch event's kind and package (its first two values). */
const batchKind = (kind: HandleKind) => kind;
const batchPackage = (_kind: HandleKind, pkg: string) => pkg;
const status = (_fn: string, code: number) => code;

/** A handle's series appear with the first handle of its kind and package, its leak series at 0 too. */
const WITH_KIND_PACKAGE = { perKindPackage: [[]] };
const product = (a: readonly string[], b: readonly string[]) => a.flatMap((x) => b.map((y) => [x, y]));

export const CATALOG = {
  handlesLive: {
    name: 'sspi_handles_live',
    type: 'gauge',
    unit: '{handle}',
    help: 'SSPI handles currently live (acquired or created, not yet freed or deleted).',
    labels: [KIND, PACKAGE, DIRECTION],
    feed: collect((handles, observe) => {
      for (const g of handles.liveGroups()) observe(g.count, { kind: g.kind, package: g.package, direction: g.direction });
    }),
    otel: { name: 'sspi.handle.count' },
  },
  oldestAge: {
    name: 'sspi_handle_oldest_age_seconds',
    type: 'gauge',
    unit: 's',
    help: 'Age of the oldest live SSPI handle of each kind (0 when none is live).',
    labels: [KIND],
    feed: collect((handles, observe) => {
      const now = clock.now();
      for (const kind of HANDLE_KINDS) {
        const oldest = handles.oldest(kind);
        observe(oldest ? (now - oldest.createdAt) / 1000 : 0, { kind });
      }
    }),
    aggregator: 'max',
    perThread: true,
    otel: { name: 'sspi.handle.oldest_age' },
  },
  handlesStale: {
    name: 'sspi_handles_stale',
    type: 'gauge',
    unit: '{handle}',
    help: 'Live handles found stale: older than their maximum age (age), or a handshake left unfinished (abandoned).',
    labels: [KIND, LEAK_REASON],
    feed: collect((handles, observe) => {
      for (const kind of HANDLE_KINDS) for (const reason of STALE_REASONS) observe(handles.staleCount(kind, reason), { kind, reason });
    }),
    perThread: true,
    otel: { name: 'sspi.handle.stale.count' },
  },
  handlesOpened: {
    name: 'sspi_handles_opened_total',
    type: 'counter',
    unit: '{handle}',
    help: 'SSPI handles created: credentials acquired, contexts created or imported, buffers allocated.',
    labels: [KIND, PACKAGE],
    feed: on('onOpens', { kind: batchKind, package: batchPackage }, (_kind, _pkg, count) => count),
    zeroes: WITH_KIND_PACKAGE,
    otel: { name: 'sspi.handle.opened' },
  },
  handlesClosed: {
    name: 'sspi_handles_closed_total',
    type: 'counter',
    unit: '{handle}',
    help: 'SSPI handles released: credentials freed, contexts deleted, buffers returned.',
    labels: [KIND, PACKAGE],
    feed: on('onCloses', { kind: batchKind, package: batchPackage }, (_kind, _pkg, count) => count),
    zeroes: WITH_KIND_PACKAGE,
    otel: { name: 'sspi.handle.closed' },
  },
  handlesLeaked: {
    name: 'sspi_handles_leaked_total',
    type: 'counter',
    unit: '{handle}',
    help: 'SSPI handles found leaked, once each per reason: exit (live when the process ended), collected (its JS holder was garbage-collected), age, abandoned.',
    labels: [KIND, PACKAGE, LEAK_REASON],
    feed: on('onLeak', { kind, package: pkg, reason: (_handle: TrackedHandle, reason: LeakReason) => reason }),
    zeroes: { perKindPackage: LEAK_REASONS.map((reason) => [reason]) },
    otel: { name: 'sspi.handle.leaked' },
  },
  lifetime: {
    name: 'sspi_handle_lifetime_seconds',
    type: 'histogram',
    unit: 's',
    help: 'Time from a handle’s creation to its release.',
    labels: [KIND, PACKAGE],
    buckets: LIFETIME_BUCKETS,
    feed: onEach('onCloses', { kind: batchKind, package: batchPackage }, (_kind, _pkg, _count, lifetimes) => lifetimes),
    zeroes: WITH_KIND_PACKAGE,
    otel: { name: 'sspi.handle.lifetime', note: 'same buckets' },
  },
  calls: {
    name: 'sspi_calls_total',
    type: 'counter',
    unit: '{call}',
    help: 'SSPI calls by function and returned SECURITY_STATUS (by name; unknown codes as 0x-hex).',
    labels: [FUNCTION, STATUS],
    feed: on('onCalls', { function: fn, status }, (_fn, _status, count) => count),
    // OpenTelemetry counts them as sspi.call.duration's count per status.
    otel: null,
  },
  callDuration: {
    name: 'sspi_call_duration_seconds',
    type: 'histogram',
    unit: 's',
    help: 'Duration of SSPI calls.',
    labels: [FUNCTION],
    buckets: CALL_DURATION_BUCKETS,
    feed: onEach('onCalls', { function: fn, status }, (_fn, _status, _count, seconds) => seconds),
    otel: {
      name: 'sspi.call.duration',
      labels: [FUNCTION, STATUS],
      help: 'Duration of SSPI calls, by function and returned SECURITY_STATUS.',
      note: 'same buckets; its count per `sspi.status` is `sspi_calls_total`',
    },
  },
  invalidReleases: {
    name: 'sspi_invalid_releases_total',
    type: 'counter',
    unit: '{call}',
    help: 'Calls that did not reach a live handle: release of a handle never seen (unknown), failed release, second release (double), call on a released handle (use_after_release).',
    labels: [KIND, MISUSE_REASON],
    feed: on('onInvalidRelease', { kind: (e: InvalidRelease) => e.kind, reason: (e: InvalidRelease) => e.reason }),
    zeroes: { atStart: product(HANDLE_KINDS, INVALID_RELEASE_REASONS) },
    otel: { name: 'sspi.release.invalid' },
  },
  outOfOrderReleases: {
    name: 'sspi_out_of_order_releases_total',
    type: 'counter',
    unit: '{release}',
    help: 'Credentials freed while contexts made from them were still live.',
    labels: [KIND],
    feed: on('onOutOfOrderRelease', { kind }),
    zeroes: { atStart: [['credential']] },
    otel: { name: 'sspi.release.out_of_order' },
  },
  forcedReleases: {
    name: 'sspi_forced_releases_total',
    type: 'counter',
    unit: '{release}',
    help: 'Handles the agent released itself in its ordered cleanup, by result.',
    labels: [KIND, RESULT],
    feed: on('onForcedRelease', { kind: (e: ForcedRelease) => e.handle.kind, result: (e: ForcedRelease) => e.result }),
    zeroes: { atStart: product(HANDLE_KINDS, FORCED_RESULTS) },
    otel: { name: 'sspi.release.forced' },
  },
  unloadWithLiveHandles: {
    name: 'sspi_unload_with_live_handles_total',
    type: 'counter',
    unit: '{unload}',
    help: 'Provider libraries unloaded while handles they made were live.',
    labels: [],
    feed: on('onUnloadWithLiveHandles', {}),
    zeroes: { atStart: [[]] },
    otel: { name: 'sspi.provider.unload_with_live_handles' },
  },
  negotiations: {
    name: 'sspi_negotiations_total',
    type: 'counter',
    unit: '{negotiation}',
    help: 'Negotiate contexts by the package that actually ran (Kerberos, NTLM, or unknown when no token named one), counted once per context: NTLM is a fallback from Kerberos.',
    labels: [PACKAGE, NEGOTIATED],
    feed: on('onNegotiated', { package: pkg, negotiated: (_context: TrackedHandle, negotiated: NegotiatedLabel) => negotiated }),
    // At 0 from the start, so that an alert's increase() sees the first NTLM fallback.
    zeroes: { atStart: NEGOTIATED_LABELS.map((negotiated) => [NEGOTIATE_PACKAGE, negotiated]) },
    otel: { name: 'sspi.negotiations' },
  },
  agentErrors: {
    name: 'sspi_agent_errors_total',
    type: 'counter',
    unit: '{error}',
    help: 'Internal errors of the agent, by where they happened (the app’s calls were not affected); where="otel.export" counts failed OTLP exports of the OpenTelemetry SDK the agent started itself.',
    labels: [WHERE],
    // What applying the waiting calls failed at counts in this read: the exporter applied them first.
    feed: collect((_handles, observe) => {
      for (const [where, count] of agentErrorCounts()) observe(count, { where });
    }),
    otel: { name: 'sspi.agent.errors' },
  },
} as const satisfies Readonly<Record<string, MetricDef>>;

export type MetricKey = keyof typeof CATALOG;

/** The Prometheus names, by key: what the API, the dashboards and alert rules use. */
export const METRICS = Object.fromEntries(Object.entries(CATALOG).map(([key, def]) => [key, def.name])) as {
  readonly [K in MetricKey]: (typeof CATALOG)[K]['name'];
};

const BY_NAME: ReadonlyMap<string, MetricDef> = new Map(Object.values(CATALOG).map((def: MetricDef) => [def.name, def]));

/** The catalog entry of a Prometheus metric name. */
export function metricNamed(name: string): MetricDef | undefined {
  return BY_NAME.get(name);
}
