/**
 * What the agent does when the process ends, on every path: a normal end or `process.exit()` (the
 * 'exit' event), an uncaught exception (which emits no 'exit'), and SIGINT/SIGTERM/SIGHUP when the app
 * has no handler of its own. It declares the live handles leaked, runs the forced cleanup if asked,
 * writes the report, and applies fail-on-leak — once. The app's exit code and signal semantics stay
 * as they would be without the agent: a signal is re-raised after the work, so the process still
 * ends by that signal; an app's own signal handler is left to decide.
 */
import { writeFileSync } from 'node:fs';
import { forceCleanup } from './cleanup.js';
import type { AgentConfig } from './config.js';
import { agentError, writeStderr } from './diagnostics.js';
import { buildLeakReport, formatLeakReport, type LeakReport } from './exporters/leak-report.js';
import type { HandleRegistry } from './registry.js';
import type { Suppressions } from './suppressions.js';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface ProcessEnd {
  /** Runs the end-of-process work now (once); later calls return the same report. */
  finish(reason: string, cleanup: boolean): LeakReport;
  uninstall(): void;
}

export function installProcessEnd(registry: HandleRegistry, config: AgentConfig, suppressions: Suppressions | undefined): ProcessEnd {
  let finished: LeakReport | undefined;
  const cleanupOn = (path: 'exit' | 'signals') => config.cleanup === path || config.cleanup === 'all';

  function finish(reason: string, cleanup: boolean): LeakReport {
    if (finished) return finished;
    const leaked = registry.declareLeaks('exit');
    const cleaned = cleanup ? forceCleanup(registry, reason) : [];
    finished = buildLeakReport(leaked, reason, { suppressions, cleanup: cleaned });
    if (leaked.length > 0 && config.report) writeStderr(formatLeakReport(finished));
    if (config.reportFile) writeFileSync(config.reportFile, JSON.stringify(finished, null, 2) + '\n');
    return finished;
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
      const report = finish('exit', cleanupOn('exit'));
      // The app's own non-zero exit code wins.
      if (config.failOnLeak && report.unsuppressed > 0 && code === 0) process.exitCode = config.failOnLeakExitCode;
    });

  // The monitor sees an uncaught exception before Node's default handler ends the process; with an
  // 'uncaughtException' handler of the app's the process goes on, so nothing ends here.
  const onUncaught = () =>
    safely(() => {
      if (process.listenerCount('uncaughtException') === 0) finish('uncaught exception', cleanupOn('exit'));
    });

  const onSignal = (signal: NodeJS.Signals) => {
    // Another listener is the app's own handler: its choice, not ours (if it exits, 'exit' runs).
    if (process.listenerCount(signal) > 1) return;
    safely(() => finish(signal, cleanupOn('signals')));
    uninstall();
    process.kill(process.pid, signal);
  };

  function uninstall(): void {
    process.off('exit', onExit);
    process.off('uncaughtExceptionMonitor', onUncaught);
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }

  process.on('exit', onExit);
  process.on('uncaughtExceptionMonitor', onUncaught);
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return { finish, uninstall };
}
