/**
 * The programmatic API, `sspi-agent/api`. Under `node --import sspi-agent` it reads the running
 * agent; without the preload, `start()` (or the first call that needs an agent) starts one from the
 * same SSPI_AGENT_* variables. With the agent disabled (SSPI_AGENT_ENABLED=0) every call still works
 * and returns empty results: turning the agent off must never break the app.
 */
import type { Registry } from 'prom-client';
import { runningAgent, startAgent, type Agent } from './agent.js';
import type { AgentConfig } from './config.js';
import { readConfig } from './config-reader.js';
import { agentError } from './diagnostics.js';
import { buildLeakReport, formatLeakReport, type LeakReport, type LeakedHandle } from './exporters/leak-report.js';
import { promClient } from './exporters/prom-client.js';

export { METRICS } from './metrics/catalog.js';
export { SETTINGS } from './config.js';
export { SspiInstrumentation } from './instrumentation.js';
export type { SspiInstrumentationConfig } from './instrumentation-config.js';
export type { Agent, AgentConfig, LeakReport, LeakedHandle };
export type { LeakGroup, CleanupEntry } from './exporters/leak-report.js';
export type { Direction, HandleKind, TrackedHandle } from './types.js';

/** Whether a start was tried and the agent is off, so the settings are read (and warned about) once. */
let disabled = false;
let emptyRegistry: Registry | undefined;

/**
 * Starts the agent if the preload did not, with settings from the environment overridden by
 * `overrides`. Libraries loaded before this call are not instrumented; pass koffi to
 * `instrumentKoffi` if the app loaded it first. Undefined when the agent is disabled.
 */
export function start(overrides: Partial<AgentConfig> = {}): Agent | undefined {
  const running = runningAgent();
  if (running || disabled) return running;
  const agent = startAgent({ ...readConfig(), ...overrides });
  disabled = agent === undefined;
  return agent;
}

/** Instruments a koffi module the app imported before the agent started (libraries it loads from now on). */
export function instrumentKoffi(koffi: unknown): void {
  try {
    start()?.koffi.patchModule(koffi);
  } catch (err) {
    // e.g. an ES module namespace (`import * as koffi`), whose properties cannot be replaced.
    agentError('api.instrumentKoffi', err);
  }
}

/**
 * The agent's prom-client registry (empty when the agent is off); merge it with
 * `Registry.merge([appRegistry, registry()])`. prom-client loads at the first call, and the registry
 * holds every count made before it.
 */
export function registry(): Registry {
  return start()?.prometheus.registry ?? (emptyRegistry ??= new (promClient().Registry)());
}

/** The live handles right now, oldest first, as the JSON report lists them. */
export function snapshot(): LeakedHandle[] {
  return report().handles;
}

/** The live handles grouped by allocation site, as the exit report shows them. */
export function report(): LeakReport {
  return start()?.report('report') ?? buildLeakReport([], 'report');
}

/** The report as text, as it is written to stderr at exit. */
export function formatReport(r: LeakReport = report()): string {
  return formatLeakReport(r);
}

/**
 * The forced ordered cleanup, now: deletes every live context, then frees every live credential,
 * then returns every live buffer, with the provider's own functions; returns what it did.
 */
export function cleanup(): Array<{ id: number; kind: string; status: number; result: string }> {
  return (start()?.cleanup() ?? []).map((r) => ({ id: r.handle.id, kind: r.handle.kind, status: r.status, result: r.result }));
}

/**
 * Applies the SSPI calls that wait, now: their metrics, events and OpenTelemetry call spans. The
 * agent applies calls in batches, before anything reads its books and at the next event-loop turn at
 * the latest, so a call's span ends within one turn of the call. An app or a test that reads its span
 * exporter, or shuts its SDK down, in the same turn as its SSPI calls calls this first. Starts no agent.
 */
export function settle(): void {
  try {
    runningAgent()?.handles.settled();
  } catch (err) {
    agentError('api.settle', err);
  }
}

/** Stops the agent: unhooks koffi and closes the endpoint (mainly for tests). */
export async function stop(): Promise<void> {
  await runningAgent()?.stop();
}
