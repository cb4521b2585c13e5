/**
 * The data the agent keeps. Hooks produce these records, the registry owns them, exporters read them.
 */

/** What an SSPI handle stands for. */
export type HandleKind = 'credential' | 'context';

/**
 * Which way a handle authenticates: a credential's `fCredentialUse` (1 inbound, 2 outbound, 3 both);
 * a context made by InitializeSecurityContext is outbound (client), by AcceptSecurityContext inbound
 * (server); an imported context's direction is not known.
 */
export type Direction = 'inbound' | 'outbound' | 'both' | 'unknown';

/**
 * A handle's identity as SSPI defines it: the `{dwLower, dwUpper}` pair, as one string of two decimal
 * numbers. Internal only: never a metric label, never logged.
 */
export type HandleKey = string;

/** Where a handle was created, captured cheaply; formatted only when a report needs it. */
export interface AllocationSite {
  /** App frames, most recent first, as `at fn (file:line:col)` lines. */
  frames(): string[];
}

/** Everything the agent knows about one live handle. */
export interface TrackedHandle {
  /** The agent's own sequence number: a stable, harmless name for the handle in reports. */
  readonly id: number;
  readonly key: HandleKey;
  readonly kind: HandleKind;
  /** Package label: a known SSPI package name or `other`. */
  readonly package: string;
  readonly direction: Direction;
  /** The SSPI function whose call created the handle, e.g. `AcquireCredentialsHandleW`. */
  readonly createdBy: string;
  /** The provider library's file name as the app loaded it, e.g. `secur32.dll`. */
  readonly library: string;
  /** `performance.now()` when it was created (monotonic); see `createdAtEpochMs` for wall time. */
  readonly createdAt: number;
  readonly createdAtEpochMs: number;
  /** For a context: the credential it was made from, if the agent saw that credential. */
  readonly credential: TrackedHandle | undefined;
  /** Undefined when stack capture is off. */
  readonly site: AllocationSite | undefined;
  /** Intrusive links of the registry's creation-ordered live list (O(1) oldest, O(1) removal). */
  prev: TrackedHandle | undefined;
  next: TrackedHandle | undefined;
}

/** What a hook tells the registry when a handle comes to life. */
export interface HandleOpening {
  kind: HandleKind;
  key: HandleKey;
  package: string;
  direction: Direction;
  createdBy: string;
  library: string;
  credential?: TrackedHandle | undefined;
  site?: AllocationSite | undefined;
}

/** Why a release did not end a tracked handle. */
export type InvalidReleaseReason = 'unknown' | 'failed';

/** Why the agent counts a handle as leaked. Later detectors add reasons. */
export type LeakReason = 'exit';

/** The registry's events, in the order they happen; exporters subscribe to them. */
export interface RegistryListener {
  onOpen?(handle: TrackedHandle): void;
  /** `lifetimeSeconds` from creation to release. */
  onClose?(handle: TrackedHandle, lifetimeSeconds: number): void;
  onInvalidRelease?(kind: HandleKind, reason: InvalidReleaseReason): void;
  onLeak?(handle: TrackedHandle, reason: LeakReason): void;
  /** Every wrapped SSPI call, with its SECURITY_STATUS as a signed 32-bit number. */
  onCall?(fn: string, status: number, durationSeconds: number): void;
}
