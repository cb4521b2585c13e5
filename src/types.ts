/**
 * The data the agent keeps. Hooks produce these records, the registry owns them, exporters read them.
 */
import type { Direction } from './sspi/credential-use.js';
import type { HandshakeState } from './sspi/handshake.js';
import type { NegotiatedLabel, NegotiatedPackage } from './sspi/negotiation-tokens.js';

export type { Direction, HandshakeState };

/**
 * What an SSPI handle stands for: a credential (`CredHandle`), a security context (`CtxtHandle`), or
 * a buffer SSPI allocated that the app must return with `FreeContextBuffer`.
 */
export type HandleKind = 'credential' | 'context' | 'buffer';
export const HANDLE_KINDS: readonly HandleKind[] = ['credential', 'context', 'buffer'];

/** One `T` per handle kind. */
export function perKind<T>(make: () => T): Record<HandleKind, T> {
  return { credential: make(), context: make(), buffer: make() };
}

/**
 * A handle's identity as SSPI defines it: the `{dwLower, dwUpper}` pair packed into one Number where
 * it fits, else one 128-bit BigInt (`core/handle-keys.ts`); a buffer's address (a Number, or a BigInt
 * past 2^53); or the string a binding such as node-expose-sspi uses for a handle. Never a freshly
 * built string: the registry looks keys up several times per SSPI call, and hashing a 41-character
 * string costs ~400–700 ns. Internal only: never a metric label, never logged.
 */
export type HandleKey = number | bigint | string;

/** A handle read from a call's argument. `null`: the app passed NULL. `undefined`: a shape the agent cannot read. */
export type ReadHandle = HandleKey | null | undefined;

/** Whether a read handle is one the agent can track (not NULL, not an unreadable shape). */
export function isHandleKey(value: ReadHandle): value is HandleKey {
  return typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string';
}

/** Where a handle was created, captured cheaply; formatted only when a report needs it. */
export interface AllocationSite {
  /** App frames, most recent first, as `at fn (file:line:col)` lines. */
  frames(): string[];
}

/** One SSPI call on a live context: its handshake history, as the leak report shows it. */
export interface CallRecord {
  readonly fn: string;
  readonly status: number;
  /** Milliseconds since the context was created. */
  readonly atMs: number;
}


/**
 * How the agent can release a handle itself (forced cleanup): the provider's own native function,
 * called with the recorded handle. Supplied by the hook that saw the handle created.
 */
export interface HandleReleaser {
  release(handle: TrackedHandle): number;
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
  /** `performance.now()` when it was created (monotonic; wall time is `performance.timeOrigin + createdAt`). */
  readonly createdAt: number;
  /** For a context: the credential it was made from, if the agent saw that credential. */
  readonly credential: TrackedHandle | undefined;
  /** Undefined when stack capture is off (or this allocation was not sampled). */
  readonly site: AllocationSite | undefined;
  /** Undefined when the agent cannot release it (forced cleanup skips it). */
  readonly releaser: HandleReleaser | undefined;
  /** An opaque token of the provider library instance, so an unload finds its own handles. */
  readonly provider: object | undefined;
  /** For a context: its last calls, oldest first, at most a few. */
  readonly history: readonly CallRecord[] | undefined;
  /** For a context: where its handshake stands. */
  readonly handshake: HandshakeState | undefined;
  /** For a Negotiate context: the package its tokens showed it runs (Kerberos or NTLM), once settled. */
  readonly negotiated: NegotiatedPackage | undefined;
  /** For a credential: how many contexts made from it are live. */
  readonly liveContexts: number;
  /** Set once the handle is found stale; it stays live. */
  readonly stale: StaleReason | undefined;
  readonly staleAt: number | undefined;
  /** Set once the JS object that held it was garbage-collected while it was live. */
  readonly collected: boolean;
  /** Set when it is released: the record is then kept (bounded) for the double-free guard. */
  readonly releasedBy: string | undefined;
  readonly releasedAt: number | undefined;
  readonly releaseSite: AllocationSite | undefined;
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
  releaser?: HandleReleaser | undefined;
  provider?: object | undefined;
  /** The JS object that holds the handle (out-struct, Buffer, External): watched for collection, never kept. */
  holder?: object | undefined;
  /** The creating call's status, the first entry of a context's history. */
  status?: number;
  /** `performance.now()` when the call returned, if the hook has it (saves reading the clock again). */
  at?: number;
  /** The creating call's caller, when it was captured. */
  caller?: CallerFacts | undefined;
}

/**
 * A handle the app released, remembered (bounded) so a second release or a later use is caught: its
 * own record, no longer live, with `releasedBy`/`releasedAt`/`releaseSite` set.
 */
export type ReleasedHandle = Readonly<TrackedHandle>;

/**
 * Why a release (or a use) did not go to a live tracked handle: never seen (`unknown`), the native
 * release failed (`failed`), already released (`double`), or a call used a released handle
 * (`use_after_release`).
 */
export type InvalidReleaseReason = 'unknown' | 'failed' | 'double' | 'use_after_release';
export const INVALID_RELEASE_REASONS: readonly InvalidReleaseReason[] = ['unknown', 'failed', 'double', 'use_after_release'];

/**
 * Why the agent counts a handle as leaked: still live at exit; its JS holder was garbage-collected
 * while live (`collected`); older than its maximum age (`age`); a handshake left unfinished
 * (`abandoned`).
 */
export type LeakReason = 'exit' | 'collected' | 'age' | 'abandoned';
export const LEAK_REASONS: readonly LeakReason[] = ['exit', 'collected', 'age', 'abandoned'];

/** Why a live handle is stale: too old, or a handshake that stopped half way. */
export type StaleReason = 'age' | 'abandoned';
export const STALE_REASONS: readonly StaleReason[] = ['age', 'abandoned'];

/** How a release the agent forced (cleanup at exit or unload) went. */
export type ForcedResult = 'released' | 'failed';
export const FORCED_RESULTS: readonly ForcedResult[] = ['released', 'failed'];

/** Details of a release or use that did not reach a live handle. */
export interface InvalidRelease {
  readonly kind: HandleKind;
  readonly reason: InvalidReleaseReason;
  /** The function that was called. */
  readonly fn: string;
  /** The live handle, for `failed`. */
  readonly handle?: TrackedHandle | undefined;
  /** What the agent remembers of the earlier release, for `double` and `use_after_release`. */
  readonly released?: ReleasedHandle | undefined;
  /** Where this call came from, when stacks are on. */
  readonly site?: AllocationSite | undefined;
  /** The call's caller, when it was captured. */
  readonly caller?: CallerFacts | undefined;
}

/** The result of one release the agent forced. */
export interface ForcedRelease {
  readonly handle: TrackedHandle;
  readonly status: number;
  readonly result: ForcedResult;
  /** Why: `exit`, `signal`, `unload`, `api`. */
  readonly trigger: string;
}

/**
 * What a call carries of its caller's moment, taken by the hook as the call returns when a listener
 * declared at subscribe time that it needs it (`RegistryListener.captures`, core/registry-events.ts): the call's events can
 * then be told at any later time and still say where the call came from.
 */
export interface CallerFacts {
  /** The caller's context as the capture took it (the app's active OpenTelemetry context): opaque to the agent's core. */
  readonly context: unknown;
  /** `performance.now()` when the call returned. */
  readonly at: number;
}

/** What a listener needs of each call's caller, declared once, when it subscribes. */
export interface CallerCapture {
  /** The caller's context now; undefined when nothing of this call is wanted (no SDK registered to use it). */
  context(): unknown;
  /** The functions whose captured calls come with their `CallDetails`. */
  readonly details: ReadonlySet<string>;
}

/**
 * What a call was about, beyond its name and status (the attributes of a call span). Built only for
 * a captured call of a function a capture names, so a call allocates nothing more otherwise. Labels only: never a handle
 * value, a name, a password or a buffer.
 */
export interface CallDetails {
  /** The kind of handle the call creates, releases or works on. */
  readonly kind: HandleKind | undefined;
  /** Package label: a known SSPI package name or `other`; undefined when the call names none. */
  readonly package: string | undefined;
  /** The handle's direction (for AcquireCredentialsHandle, its `fCredentialUse`). */
  readonly direction: Direction | undefined;
  /** AcquireCredentialsHandle's `fCredentialUse` as passed (1 inbound, 2 outbound, 3 both, plus flags). */
  readonly credentialUse: number | undefined;
  /** ISC/ASC on a Negotiate context: the package this call's token shows. */
  readonly negotiated?: NegotiatedPackage | undefined;
}
