/**
 * Wires the agent together, once per process: configuration → registry → hooks (which feed it) and
 * detectors (which watch it) → exporters (which read it). Nothing here runs on the app's hot path.
 */
import { forceCleanup } from './cleanup.js';
import type { AgentConfig } from './config.js';
import { readConfig } from './config-reader.js';
import { debug, setDebug, warn } from './diagnostics.js';
import { CollectedHandleDetector } from './detectors/collected-handles.js';
import { startStaleChecks } from './detectors/stale-handles.js';
import type * as LeakReportModule from './exporters/leak-report.js';
import type { LeakReport } from './exporters/leak-report.js';
import { LeakLog } from './exporters/leak-log.js';
import { startMetricsServer, type MetricsServer } from './exporters/metrics-server.js';
import { hookKoffiImports } from './hooks/esm-loader.js';
import { setActiveKoffiHook } from './hooks/koffi-esm-bridge.js';
import { KoffiHook } from './hooks/koffi-hook.js';
import type * as NodeExposeSspiHookModule from './hooks/node-expose-sspi-hook.js';
import type { NodeExposeSspiHook } from './hooks/node-expose-sspi-hook.js';
import { hookRequire } from './hooks/require-hook.js';
import { onDemand } from './on-demand.js';
import { PrometheusGate } from './prometheus-gate.js';
import { TelemetryGate } from './telemetry-gate.js';
import { installProcessEnd } from './process-end.js';
import { HandleRegistry } from './core/registry.js';
import { providerMatcher } from './sspi/libraries.js';
import { stackPolicy } from './core/stacks.js';
import { loadSuppressions, type Suppressions } from './suppressions.js';
import type { ForcedRelease } from './types.js';
import type { ThreadReport } from './exporters/thread-reports.js';
import { WorkerHubGate } from './worker-hub-gate.js';
import type * as WorkerLinkModule from './workers/worker-link.js';

// Taken from the built-in module, not imported: see "Start-up" in docs/architecture.md.
const { isMainThread } = process.getBuiltinModule('node:worker_threads');

const leakReport = onDemand<typeof LeakReportModule>('./exporters/leak-report.js');
const nodeExposeSspiHook = onDemand<typeof NodeExposeSspiHookModule>('./hooks/node-expose-sspi-hook.js');
const workerLink = onDemand<typeof WorkerLinkModule>('./workers/worker-link.js');

export interface Agent {
  readonly config: AgentConfig;
  readonly handles: HandleRegistry;
  /** SSPI_AGENT_SUPPRESSIONS as loaded at start: what the exit report and the test plugins leave out. */
  readonly suppressions: Suppressions | undefined;
  readonly prometheus: PrometheusGate;
  readonly koffi: KoffiHook;
  readonly nodeExposeSspi: NodeExposeSspiHook;
  readonly metricsServer: MetricsServer | undefined;
  /** Settles once the endpoint is bound or has given up (at most STARTUP_WAIT_MS): what the preload waits for. */
  readonly ready: Promise<void>;
  /** OpenTelemetry spans and metrics (inactive with SSPI_AGENT_OTEL=off until an SspiInstrumentation attaches). */
  readonly telemetry: TelemetryGate;
  /** The report of the handles live right now. */
  report(reason?: string): LeakReport;
  /** The main thread's view of worker threads: what those that ended left live, and when one's books are in. */
  readonly threads: ThreadReads;
  /** The forced ordered cleanup, now: contexts, then credentials, then buffers. */
  cleanup(): ForcedRelease[];
  /**
   * Stops tracking until `resume()` (an instrumentation's `disable()`): every patch and module hook put
   * back, the wrappers the app holds passing straight through; the books, the endpoint and the exit
   * report stay. Calls made meanwhile are not seen.
   */
  suspend(): void;
  /** Tracks again, with the same books: the functions the app declared before are wrapped again. */
  resume(): void;
  /** Unhooks everything and closes the endpoint; handles stay tracked no more. */
  stop(): Promise<void>;
}

/** What the main thread knows of its worker threads' agents (a worker's agent knows none). */
export interface ThreadReads {
  /** Reports of the workers that ended with handles live (the first KEPT_THREAD_REPORTS), in the order they came. */
  reports(): readonly ThreadReport[];
  /** Resolves once a worker that exited has reported (or is counted gone, at most REPORT_WAIT_MS after its exit). */
  retired(threadId: number): Promise<void>;
}

/** A global slot, so two copies of the package in one process still start one agent. */
const SLOT = Symbol.for('sspi-agent.agent');
type GlobalWithAgent = typeof globalThis & { [SLOT]?: Agent };

export function runningAgent(): Agent | undefined {
  return (globalThis as GlobalWithAgent)[SLOT];
}

/** Redirects `import ... from 'koffi'` through the shim that instruments koffi 3's ES module. */
function hookEsmImports(): () => void {
  try {
    return hookKoffiImports(new URL('./hooks/koffi-esm-bridge.js', import.meta.url).href);
  } catch (err) {
    warn(`ES module hook not registered, so \`import { load } from 'koffi'\` is not instrumented: ${String(err)}`);
    return () => {};
  }
}

/** Hooks the module loaders (CommonJS `require`, and koffi's ES import) to the agent's hooks; returns how to unhook them. */
function hookModuleLoads(koffi: KoffiHook, nodeExposeSspi: () => NodeExposeSspiHook): () => void {
  const unhookRequire = hookRequire(
    (exports) => koffi.patchModule(exports),
    (exports) => nodeExposeSspi().patchModule(exports),
  );
  setActiveKoffiHook(koffi);
  const unhookEsm = hookEsmImports();
  return () => {
    unhookRequire();
    unhookEsm();
    setActiveKoffiHook(undefined);
  };
}

/** The longest the preload holds the app's start for the endpoint; binding a port takes microseconds. */
const STARTUP_WAIT_MS = 2000;

/** The endpoint's bind, bounded: a ref'd timer, so that the wait itself keeps the loop alive. */
function readyWithin(server: MetricsServer | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, STARTUP_WAIT_MS)));
  return Promise.race([server.ready.then(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

/** What differs between the main thread's agent and a worker thread's: how its thread's end and its metrics leave it. */
interface ThreadRole {
  readonly metricsServer: MetricsServer | undefined;
  readonly ready: Promise<void>;
  readonly threads: ThreadReads;
  /** Lets go of the thread's end and of the other threads, at once: a stopped agent reports nothing more. */
  detach(): void;
  close(): Promise<void>;
}

/** The process's endpoint (every thread's metrics), and the process's end. */
function mainThreadRole(config: AgentConfig, handles: HandleRegistry, prometheus: PrometheusGate, telemetry: TelemetryGate, suppressions: Suppressions | undefined): ThreadRole {
  const workers = new WorkerHubGate(prometheus);
  const source = {
    metrics: () => workers.metrics(),
    // Read after `metrics()`, which made the registry: prom-client loads at the first scrape, not here.
    get contentType() {
      return prometheus.contentType;
    },
  };
  const metricsServer = config.metricsPort === 0 ? undefined : startMetricsServer(source, config.metricsHost, config.metricsPort, config.metricsToken);
  const processEnd = installProcessEnd(handles, config, suppressions, { flusher: telemetry, threadReports: () => workers.threadReports(true) });
  return {
    metricsServer,
    ready: readyWithin(metricsServer),
    threads: { reports: () => workers.threadReports(), retired: (threadId) => workers.retired(threadId) },
    detach() {
      processEnd.uninstall();
      workers.stop();
    },
    close: async () => metricsServer?.close(),
  };
}

/** A worker's metrics and books go to the main thread. */
function workerThreadRole(config: AgentConfig, handles: HandleRegistry, prometheus: PrometheusGate, suppressions: Suppressions | undefined): ThreadRole {
  const link = workerLink().linkWorker(handles, prometheus, config, suppressions);
  const threads: ThreadReads = { reports: () => [], retired: async () => {} };
  return { metricsServer: undefined, ready: Promise.resolve(), threads, detach: () => link.stop(), close: async () => {} };
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
  const suppressions: Suppressions | undefined = loadSuppressions(config.suppressions, warn);
  const prometheus = new PrometheusGate(handles);
  const leakLog = new LeakLog();
  const unsubscribeLog = handles.subscribe(leakLog);
  const collected = new CollectedHandleDetector(handles, config.collected);
  const stopStaleChecks = startStaleChecks(handles, {
    credential: config.maxAgeCredential,
    context: config.maxAgeContext,
    buffer: config.maxAgeBuffer,
    handshake: config.maxHandshake,
  });
  const stacks = stackPolicy(config.stacks, config.stackDepth, config.stackBudget);
  const koffi = new KoffiHook({
    registry: handles,
    providers: providerMatcher(config.libraries, warn),
    stacks,
    guard: config.guard,
    beforeUnload: (provider) => {
      if (config.cleanup !== 'off') forceCleanup(handles, 'unload', (h) => h.provider === provider);
    },
  });
  // The node-expose-sspi hook is made when that addon first loads (or the API asks for it).
  let exposeHook: NodeExposeSspiHook | undefined;
  let stopped = false;
  let suspended = false;
  const nodeExposeSspi = (): NodeExposeSspiHook => {
    if (exposeHook) return exposeHook;
    exposeHook = new (nodeExposeSspiHook().NodeExposeSspiHook)({ registry: handles, stacks, guard: config.guard });
    if (suspended) exposeHook.suspend();
    return exposeHook;
  };
  let unhookLoads: (() => void) | undefined = hookModuleLoads(koffi, nodeExposeSspi);
  // One OpenTelemetry SDK per process: a worker uses an SDK the app registered in it, never starts one.
  const otelMode = isMainThread || config.otel === 'off' ? config.otel : 'global';
  const telemetry = new TelemetryGate(handles, { mode: otelMode, callSpans: config.callSpans, leakSpans: config.leakSpans });
  const role = isMainThread ? mainThreadRole(config, handles, prometheus, telemetry, suppressions) : workerThreadRole(config, handles, prometheus, suppressions);

  const agent: Agent = {
    config,
    suppressions,
    handles,
    prometheus,
    koffi,
    get nodeExposeSspi() {
      return nodeExposeSspi();
    },
    metricsServer: role.metricsServer,
    ready: role.ready,
    telemetry,
    threads: role.threads,
    report: (reason = 'report') => leakReport().buildLeakReport(handles.settled().liveHandles(), reason, { suppressions }),
    cleanup: () => forceCleanup(handles, 'api'),
    suspend() {
      if (!unhookLoads) return;
      // The exporters still listening hear the calls made before.
      handles.settled();
      unhookLoads();
      unhookLoads = undefined;
      suspended = true;
      koffi.suspend();
      exposeHook?.suspend();
      debug('suspended');
    },
    resume() {
      if (unhookLoads || stopped) return;
      suspended = false;
      koffi.resume();
      exposeHook?.resume();
      unhookLoads = hookModuleLoads(koffi, nodeExposeSspi);
      debug('resumed');
    },
    async stop() {
      stopped = true;
      // Not running from here on: a start while the endpoint closes starts a new agent.
      if ((globalThis as GlobalWithAgent)[SLOT] === agent) delete (globalThis as GlobalWithAgent)[SLOT];
      // The exporters still listening hear the calls the registry has not applied yet.
      handles.settled();
      role.detach();
      stopStaleChecks();
      unhookLoads?.();
      unhookLoads = undefined;
      koffi.unpatchAll();
      exposeHook?.unpatchAll();
      collected.stop();
      unsubscribeLog();
      prometheus.stop();
      await telemetry.stop();
      await role.close();
    },
  };
  (globalThis as GlobalWithAgent)[SLOT] = agent;
  debug('started');
  return agent;
}
