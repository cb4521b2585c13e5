/**
 * Wires the agent together, once per process: configuration → registry → hooks (which feed it) →
 * exporters (which read it). Nothing here runs on the app's hot path.
 */
import { register } from 'node:module';
import { writeFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { readConfig, type AgentConfig } from './config.js';
import { agentError, debug, setDebug, warn, writeStderr } from './diagnostics.js';
import { buildLeakReport, formatLeakReport, type LeakReport } from './exporters/leak-report.js';
import { startMetricsServer, type MetricsServer } from './exporters/metrics-server.js';
import { PrometheusExporter } from './exporters/prometheus.js';
import { setActiveKoffiHook } from './hooks/koffi-esm-bridge.js';
import { KoffiHook } from './hooks/koffi-hook.js';
import { hookRequire } from './hooks/require-hook.js';
import { HandleRegistry } from './registry.js';
import { providerMatcher } from './sspi/libraries.js';
import { stackCapturer } from './stacks.js';

export interface Agent {
  readonly config: AgentConfig;
  readonly handles: HandleRegistry;
  readonly prometheus: PrometheusExporter;
  readonly koffi: KoffiHook;
  readonly metricsServer: MetricsServer | undefined;
  /** The report of the handles live right now. */
  report(reason?: string): LeakReport;
  /** Unhooks everything and closes the endpoint; handles stay tracked no more. */
  stop(): Promise<void>;
}

/** A global slot, so two copies of the package in one process still start one agent. */
const SLOT = Symbol.for('sspi-agent.agent');
type GlobalWithAgent = typeof globalThis & { [SLOT]?: Agent };

export function runningAgent(): Agent | undefined {
  return (globalThis as GlobalWithAgent)[SLOT];
}

/** Redirects `import ... from 'koffi'` through the shim that instruments koffi 3's ES module. */
function registerEsmHook(): void {
  const bridgeUrl = new URL('./hooks/koffi-esm-bridge.js', import.meta.url).href;
  register('./hooks/esm-loader.js', import.meta.url, { data: { bridgeUrl } });
}

function writeExitReport(agent: Agent): void {
  const leaked = agent.handles.declareLeaks('exit');
  const report = buildLeakReport(leaked, 'exit');
  if (leaked.length > 0 && agent.config.report) writeStderr(formatLeakReport(report));
  if (agent.config.reportFile) writeFileSync(agent.config.reportFile, JSON.stringify(report, null, 2) + '\n');
}

export function startAgent(config: AgentConfig = readConfig()): Agent | undefined {
  const existing = runningAgent();
  if (existing) return existing;
  setDebug(config.debug);
  if (!config.enabled) {
    debug('disabled by SSPI_AGENT_ENABLED=0');
    return undefined;
  }
  const handles = new HandleRegistry();
  const prometheus = new PrometheusExporter(handles);
  const koffi = new KoffiHook({
    registry: handles,
    providers: providerMatcher(config.libraries, warn),
    captureStack: stackCapturer(config.stacks, config.stackDepth),
  });
  const unhookRequire = hookRequire((exports) => koffi.patchModule(exports));
  setActiveKoffiHook(koffi);
  try {
    registerEsmHook();
  } catch (err) {
    warn(`ES module hook not registered, so \`import { load } from 'koffi'\` is not instrumented: ${String(err)}`);
  }
  const metricsServer =
    config.metricsPort === 0
      ? undefined
      : startMetricsServer({ metrics: () => prometheus.metrics(), contentType: prometheus.registry.contentType }, config.metricsHost, config.metricsPort);

  const onExit = () => {
    try {
      writeExitReport(agent);
    } catch (err) {
      agentError('exit-report', err);
    }
  };
  process.on('exit', onExit);

  const agent: Agent = {
    config,
    handles,
    prometheus,
    koffi,
    metricsServer,
    report: (reason = 'report') => buildLeakReport(handles.liveHandles(), reason),
    async stop() {
      process.off('exit', onExit);
      unhookRequire();
      koffi.unpatchAll();
      setActiveKoffiHook(undefined);
      prometheus.stop();
      await metricsServer?.close();
      delete (globalThis as GlobalWithAgent)[SLOT];
    },
  };
  (globalThis as GlobalWithAgent)[SLOT] = agent;
  debug('started');
  return agent;
}

export type { Registry };
