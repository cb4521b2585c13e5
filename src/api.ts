/**
 * The programmatic API, `sspi-agent/api`. Under `node --import sspi-agent` it reads the running
 * agent; without the preload, `start()` (or the first call that needs an agent) starts one from the
 * same SSPI_AGENT_* variables.
 */
import type { Registry } from 'prom-client';
import { runningAgent, startAgent, type Agent } from './agent.js';
import { readConfig, type AgentConfig } from './config.js';
import type { LeakReport, LeakedHandle } from './exporters/leak-report.js';
import { formatLeakReport } from './exporters/leak-report.js';

export { METRICS } from './exporters/metric-names.js';
export { SETTINGS } from './config.js';
export type { Agent, AgentConfig, LeakReport, LeakedHandle };
export type { LeakGroup } from './exporters/leak-report.js';
export type { Direction, HandleKind, TrackedHandle } from './types.js';

class AgentDisabledError extends Error {
  constructor() {
    super('sspi-agent is disabled (SSPI_AGENT_ENABLED=0)');
    this.name = 'AgentDisabledError';
  }
}

/**
 * Starts the agent if the preload did not, with settings from the environment overridden by
 * `overrides`. Libraries loaded before this call are not instrumented; pass koffi to
 * `instrumentKoffi` if the app loaded it first.
 */
export function start(overrides: Partial<AgentConfig> = {}): Agent | undefined {
  return runningAgent() ?? startAgent({ ...readConfig(), ...overrides });
}

function agent(): Agent {
  const a = start();
  if (!a) throw new AgentDisabledError();
  return a;
}

/** Instruments a koffi module the app imported before the agent started (libraries it loads from now on). */
export function instrumentKoffi(koffi: unknown): void {
  agent().koffi.patchModule(koffi);
}

/** The agent's prom-client registry; merge it into an app's own with `Registry.merge([appRegistry, registry()])`. */
export function registry(): Registry {
  return agent().prometheus.registry;
}

/** The live handles right now, oldest first, as the JSON report lists them. */
export function snapshot(): LeakedHandle[] {
  return agent().report('snapshot').handles;
}

/** The live handles grouped by allocation site, as the exit report shows them. */
export function report(): LeakReport {
  return agent().report('report');
}

/** The report as text, as it is written to stderr at exit. */
export function formatReport(r: LeakReport = report()): string {
  return formatLeakReport(r);
}

/** Stops the agent: unhooks koffi and closes the endpoint (mainly for tests). */
export async function stop(): Promise<void> {
  await runningAgent()?.stop();
}

