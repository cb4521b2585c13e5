/**
 * The Prometheus metric names and labels: a contract that dashboards and alert rules are built on.
 * Change one and you break users' alerts.
 */
export const METRICS = {
  handlesLive: 'sspi_handles_live',
  handlesOpened: 'sspi_handles_opened_total',
  handlesClosed: 'sspi_handles_closed_total',
  handlesLeaked: 'sspi_handles_leaked_total',
  oldestAge: 'sspi_handle_oldest_age_seconds',
  lifetime: 'sspi_handle_lifetime_seconds',
  calls: 'sspi_calls_total',
  callDuration: 'sspi_call_duration_seconds',
  invalidReleases: 'sspi_invalid_releases_total',
  handlesStale: 'sspi_handles_stale',
  outOfOrderReleases: 'sspi_out_of_order_releases_total',
  forcedReleases: 'sspi_forced_releases_total',
  unloadWithLiveHandles: 'sspi_unload_with_live_handles_total',
  negotiations: 'sspi_negotiations_total',
  agentErrors: 'sspi_agent_errors_total',
} as const;

/** What each metric means: its Prometheus help text, and the description of its OpenTelemetry twin. */
export const HELP: Record<keyof typeof METRICS, string> = {
  handlesLive:
    'SSPI handles currently live (acquired or created, not yet freed or deleted).',
  handlesOpened:
    'SSPI handles created: credentials acquired, contexts created or imported, buffers allocated.',
  handlesClosed:
    'SSPI handles released: credentials freed, contexts deleted, buffers returned.',
  handlesLeaked:
    'SSPI handles found leaked, once each per reason: exit (live when the process ended), collected (its JS holder was garbage-collected), age, abandoned.',
  oldestAge:
    'Age of the oldest live SSPI handle of each kind (0 when none is live).',
  lifetime:
    'Time from a handle’s creation to its release.',
  calls:
    'SSPI calls by function and returned SECURITY_STATUS (by name; unknown codes as 0x-hex).',
  callDuration:
    'Duration of SSPI calls.',
  invalidReleases:
    'Calls that did not reach a live handle: release of a handle never seen (unknown), failed release, second release (double), call on a released handle (use_after_release).',
  handlesStale:
    'Live handles found stale: older than their maximum age (age), or a handshake left unfinished (abandoned).',
  outOfOrderReleases:
    'Credentials freed while contexts made from them were still live.',
  forcedReleases:
    'Handles the agent released itself in its ordered cleanup, by result.',
  unloadWithLiveHandles:
    'Provider libraries unloaded while handles they made were live.',
  negotiations:
    'Negotiate contexts by the package that actually ran (Kerberos, NTLM, or unknown when no token named one), counted once per context: NTLM is a fallback from Kerberos.',
  agentErrors:
    'Internal errors of the agent, by where they happened (the app’s calls were not affected); where="otel.export" counts failed OTLP exports of the OpenTelemetry SDK the agent started itself.',
};

/** Handle lifetimes run from a failed login's milliseconds to a service credential's days. */
export const LIFETIME_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 21600, 86400];

/** SSPI calls run from a cached query's microseconds to a Kerberos round trip's seconds. */
export const CALL_DURATION_BUCKETS = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
