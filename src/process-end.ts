/**
 * What the agent does when the process ends, on every path: a normal end or `process.exit()` (the
 * 'exit' event), an uncaught exception (seen by the monitor before Node prints it; 'exit' follows),
 * and SIGINT/SIGTERM/SIGHUP (and on Windows SIGBREAK) when the app has no handler of its own. It
 * declares the live handles leaked, runs the forced cleanup if asked, writes the report, and applies
 * fail-on-leak — once. The app's exit code and signal semantics stay as they would be without the
 * agent: after the work a signal ends the process the way it would have without the agent's listener
 * (src/signal-end.ts); an app's own signal handler is left to decide.
 *
 * Exporters that send asynchronously (OpenTelemetry) can only be waited for where the process can
 * still wait: a normal end (the loop is empty: 'beforeExit') and a signal (before it ends the process),
 * each for at most SSPI_AGENT_OTEL_FLUSH_TIMEOUT. After `process.exit()` or an uncaught exception
 * nothing asynchronous runs any more.
 */
import { cleanupCovers } from './cleanup.js';
import type { AgentConfig } from './config.js';
import { agentError, warn } from './diagnostics.js';
import type { LeakReport } from './exporters/leak-report-types.js';
import type { ThreadReport } from './exporters/thread-reports.js';
import type * as ExitReport from './exit-report.js';
import { onDemand } from './on-demand.js';
import { signalEnd, type SignalEnd } from './signal-end.js';
import { HANDLE_KINDS, type HandleRegistry } from './core/registry.js';
import type { Suppressions } from './suppressions.js';

export interface ProcessEnd {
  /**
   * Runs the end-of-process work now (once); later calls return the same report. Undefined: nothing
   * was live, no worker left anything and no report file is asked for, so there was nothing to do.
   */
  finish(reason: string, cleanup: boolean): LeakReport | undefined;
  uninstall(): void;
}

/** An exporter the process end waits for: whether something would be lost, and its export. */
export interface Flusher {
  wantsFlush(): boolean;
  flush(): Promise<void>;
}

export interface ProcessEndOptions {
  flusher?: Flusher;
  /** What worker threads left behind: part of the process's report. */
  threadReports?: () => readonly ThreadReport[];
  /** How a signal ends the process on this platform. */
  ending?: SignalEnd;
}

const exitReport = onDemand<typeof ExitReport>('./exit-report.js');

function anyLive(registry: HandleRegistry): boolean {
  const view = registry.settled();
  return HANDLE_KINDS.some((kind) => view.liveCount(kind) > 0);
}

export function installProcessEnd(
  registry: HandleRegistry,
  config: AgentConfig,
  suppressions: Suppressions | undefined,
  { flusher, threadReports = () => [], ending = signalEnd() }: ProcessEndOptions = {},
): ProcessEnd {
  let finished: { report: LeakReport | undefined } | undefined;
  let flushing = false;
  const cleanupOn = (path: 'exit' | 'signals') => cleanupCovers(config.cleanup, path);

  function finish(reason: string, cleanup: boolean): LeakReport | undefined {
    if (finished) return finished.report;
    finished = { report: undefined };
    const threads = threadReports();
    if (config.reportFile || threads.length > 0 || anyLive(registry)) {
      finished.report = exitReport().writeExitReport(registry, config, suppressions, { reason, cleanup, threadReports: threads });
    }
    return finished.report;
  }

  function safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      agentError('process-end', err);
    }
  }

  const onExit = (code: number) =>
    safely(() => {
      // Calls from here on (the app's own 'exit' handlers) are applied as they return: no event-loop
      // turn will come to apply them later. Only here: on every other path the loop may still run.
      registry.log.stopDeferring();
      const report = finish('exit', cleanupOn('exit'));
      // The app's own non-zero exit code wins.
      if (config.failOnLeak && report && report.unsuppressed > 0 && code === 0) process.exitCode = config.failOnLeakExitCode;
    });

  // The monitor sees an uncaught exception before Node's default handler ends the process; with an
  // 'uncaughtException' handler of the app's the process goes on, so nothing ends here.
  const onUncaught = () =>
    safely(() => {
      // A capture callback (the `domain` module's, or the app's own) takes the exception and the process goes on.
      if (process.listenerCount('uncaughtException') === 0 && !process.hasUncaughtExceptionCaptureCallback()) {
        finish('uncaught exception', cleanupOn('exit'));
      }
    });

  function wantsFlush(): boolean {
    try {
      return flusher !== undefined && config.otelFlushTimeout > 0 && flusher.wantsFlush();
    } catch (err) {
      agentError('process-end', err);
      return false;
    }
  }

  /**
   * Runs the flush for at most the timeout (a timer keeps the process alive meanwhile), then
   * `done(timedOut)`. A collector that cannot be reached is one warning here, not an agent error (the
   * failed exports themselves are counted as `otel.export` by the exporters of the agent's own SDK).
   */
  function flushThen(done: (timedOut: boolean) => void): void {
    flushing = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), config.otelFlushTimeout)));
    const flushed = Promise.resolve()
      .then(() => flusher!.flush())
      .then(
        () => false,
        (err: unknown) => {
          warn(`the OpenTelemetry export at the process end failed: ${err instanceof Error ? err.message : String(err)}`);
          return false;
        },
      );
    void Promise.race([flushed, timeout]).then((timedOut) => {
      clearTimeout(timer);
      if (timedOut) warn(`the OpenTelemetry export at the process end did not finish in SSPI_AGENT_OTEL_FLUSH_TIMEOUT (${config.otelFlushTimeout} ms)`);
      done(timedOut);
    });
  }

  // A normal end, with something to export: the end-of-process work runs here rather than in 'exit'
  // (the same live handles: nothing runs in between), then the export, during which the loop is
  // alive again; when it is done the loop empties, and 'exit' finds the work done. An export still
  // retrying at the timeout is all that keeps the process alive: it ends then, with its exit code.
  const onBeforeExit = () => {
    if (finished || flushing || !wantsFlush()) return;
    // The app's own 'beforeExit' handlers run after this one and may start more work: then the process
    // goes on, and this is no end. A microtask runs once they all have, before Node looks at the loop
    // again. (Compared with before them: some resources are listed without keeping the loop alive.)
    const resources = process.getActiveResourcesInfo().length;
    queueMicrotask(() => {
      if (finished || flushing || process.getActiveResourcesInfo().length > resources) return;
      safely(() => finish('exit', cleanupOn('exit')));
      flushThen((timedOut) => {
        if (timedOut) process.exit();
      });
    });
  };

  const endBy = (signal: NodeJS.Signals) => {
    uninstall();
    ending.end(signal);
  };

  const onSignal = (signal: NodeJS.Signals) => {
    // Another listener is the app's own handler: its choice, not ours (if it exits, 'exit' runs).
    if (process.listenerCount(signal) > 1) return;
    // A second signal while the export runs: end now.
    if (flushing) return endBy(signal);
    const flush = wantsFlush();
    safely(() => finish(signal, cleanupOn('signals')));
    if (flush) flushThen(() => endBy(signal));
    else endBy(signal);
  };

  function uninstall(): void {
    process.off('beforeExit', onBeforeExit);
    process.off('exit', onExit);
    process.off('uncaughtExceptionMonitor', onUncaught);
    for (const signal of ending.signals) process.off(signal, onSignal);
  }

  if (flusher) process.on('beforeExit', onBeforeExit);
  process.on('exit', onExit);
  process.on('uncaughtExceptionMonitor', onUncaught);
  for (const signal of ending.signals) process.on(signal, onSignal);
  return { finish, uninstall };
}
