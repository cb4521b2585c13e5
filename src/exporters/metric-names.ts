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
  agentErrors: 'sspi_agent_errors_total',
} as const;

/** Handle lifetimes run from a failed login's milliseconds to a service credential's days. */
export const LIFETIME_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 21600, 86400];

/** SSPI calls run from a cached query's microseconds to a Kerberos round trip's seconds. */
export const CALL_DURATION_BUCKETS = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
