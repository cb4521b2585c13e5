/**
 * The names the agent's OpenTelemetry signals use: spans and attributes (metrics' names and units are
 * in the metric catalog, `metrics/catalog.ts`). These are a contract (trace queries, dashboards and
 * alerts are built on them). No attribute ever holds a handle value, a user, principal or target
 * name, a password, an auth identity or token bytes.
 */

/** The instrumentation scope of every span and metric (the package name). */
export const INSTRUMENTATION_SCOPE = 'sspi-agent';

// ---- Span names -------------------------------------------------------------------------------

/** A handle found leaked: still live at exit, its JS holder collected, too old, or a handshake abandoned. */
export const SPAN_LEAK = 'sspi.leak';
/** A call that broke SSPI's handle rules: a double release, a use after release, an out-of-order release. */
export const SPAN_MISUSE = 'sspi.misuse';

export { CALL_SPAN_FUNCTIONS, type CallSpans } from './call-span-set.js';

// ---- Attributes -------------------------------------------------------------------------------

/** The SSPI function called, e.g. `AcceptSecurityContext`. */
export const ATTR_SSPI_FUNCTION = 'sspi.function' as const;
/** The security package: a known package name (`NTLM`, `Kerberos`, `Negotiate`, …) or `other`. */
export const ATTR_SSPI_PACKAGE = 'sspi.package' as const;
/** Under Negotiate, the package that actually ran: `Kerberos`, `NTLM` or `unknown`. */
export const ATTR_SSPI_NEGOTIATED_PACKAGE = 'sspi.negotiated_package' as const;
/** The SECURITY_STATUS returned, by name (`SEC_E_OK`, `SEC_I_CONTINUE_NEEDED`; unknown codes as 0x-hex). */
export const ATTR_SSPI_STATUS = 'sspi.status' as const;
/** The SECURITY_STATUS returned, as the unsigned 32-bit number Microsoft documents (0x80090308 = 2148074248). */
export const ATTR_SSPI_STATUS_CODE = 'sspi.status_code' as const;
/** AcquireCredentialsHandle's `fCredentialUse`: `inbound`, `outbound`, `both` or `unknown`. */
export const ATTR_SSPI_CREDENTIAL_USE = 'sspi.credential_use' as const;
/** The kind of handle a call or a finding is about: `credential`, `context` or `buffer`. */
export const ATTR_SSPI_HANDLE_KIND = 'sspi.handle.kind' as const;
/** The handle's direction: `inbound` (server), `outbound` (client), `both` or `unknown`. */
export const ATTR_SSPI_HANDLE_DIRECTION = 'sspi.handle.direction' as const;
/** The agent's own sequence number of the handle (`#5` in the exit report), never the handle's value. */
export const ATTR_SSPI_HANDLE_ID = 'sspi.handle.id' as const;
/** Seconds from the handle's creation to the finding. */
export const ATTR_SSPI_HANDLE_AGE = 'sspi.handle.age' as const;
/** The SSPI function that created the handle. */
export const ATTR_SSPI_HANDLE_CREATED_BY = 'sspi.handle.created_by' as const;
/** The provider library's file name, e.g. `secur32.dll`. */
export const ATTR_SSPI_LIBRARY = 'sspi.library' as const;
/** A context's last calls, oldest first, as `Function STATUS +Nms` (its handshake history). */
export const ATTR_SSPI_HANDLE_HISTORY = 'sspi.handle.history' as const;
/** The function that released the handle the first time (a double release or a use after release). */
export const ATTR_SSPI_HANDLE_RELEASED_BY = 'sspi.handle.released_by' as const;
/** How many contexts made from a credential were live when it was freed. */
export const ATTR_SSPI_LIVE_CONTEXTS = 'sspi.handle.live_contexts' as const;
/** Why a handle counts as leaked: `exit`, `collected`, `age`, `abandoned`. */
export const ATTR_SSPI_LEAK_REASON = 'sspi.leak.reason' as const;
/** Which rule a call broke: `double`, `use_after_release`, `out_of_order` (spans); `unknown`, `failed` too (metrics). */
export const ATTR_SSPI_MISUSE_REASON = 'sspi.misuse.reason' as const;
/** How a release the agent forced went: `released` or `failed`. */
export const ATTR_SSPI_RELEASE_RESULT = 'sspi.release.result' as const;
/** Where an internal error of the agent happened. */
export const ATTR_SSPI_AGENT_ERROR_WHERE = 'sspi.agent.error.where' as const;
/** The stack of the call that broke a rule (misuse spans; `code.stacktrace` is the allocation's). */
export const ATTR_SSPI_CALL_STACKTRACE = 'sspi.call.stacktrace' as const;
/** OpenTelemetry semantic conventions: the allocation stack, app frames only. */
export const ATTR_CODE_STACKTRACE = 'code.stacktrace' as const;
/** OpenTelemetry semantic conventions: the class of error (the status name of a failed call). */
export const ATTR_ERROR_TYPE = 'error.type' as const;
