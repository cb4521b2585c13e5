/**
 * The agent in a worker thread, as the main thread sees it. The worker's agent tracks, guards and
 * reports its own calls like the main thread's; this link answers the main thread's scrapes with the
 * worker's metrics and, when the worker's life ends, closes its books (leaks declared, the forced
 * cleanup if asked, with the worker's own bindings) and hands the report to the main thread, which
 * prints it and writes it with the process's.
 *
 * A worker ends through its 'exit' event (its loop ran empty, or it called `process.exit()`), or,
 * since `worker.terminate()` runs none of its handlers, when the main thread asks it to before it is
 * terminated.
 */
import { BroadcastChannel, threadId } from 'node:worker_threads';
import type { AgentConfig } from '../config.js';
import { agentError } from '../diagnostics.js';
import { closeBooks } from '../closing-report.js';
import type { LeakReport } from '../exporters/leak-report.js';
import type { PrometheusExporter } from '../exporters/prometheus.js';
import type { HandleRegistry } from '../registry.js';
import type { Suppressions } from '../suppressions.js';
import { TO_MAIN, TO_WORKERS, type ToMain, type ToWorkers } from './protocol.js';

export interface WorkerLink {
  stop(): void;
}

export function linkWorker(registry: HandleRegistry, prometheus: PrometheusExporter, config: AgentConfig, suppressions: Suppressions | undefined): WorkerLink {
  const toMain = new BroadcastChannel(TO_MAIN);
  const fromMain = new BroadcastChannel(TO_WORKERS);
  // The link never keeps a worker alive: a worker ends when the app's work in it does.
  toMain.unref();
  fromMain.unref();
  let ended: LeakReport | undefined;

  const send = (message: ToMain) => toMain.postMessage(message);

  function end(reason: string): void {
    if (ended) return;
    try {
      // Calls made from here on are applied as they return: the thread has no turn left to batch them.
      registry.stopDeferring();
      ended = closeBooks(registry, reason, config.cleanup === 'exit' || config.cleanup === 'all', suppressions);
      send({ type: 'ended', threadId, report: ended, metrics: prometheus.snapshot() });
    } catch (err) {
      agentError('worker-link', err);
    }
  }

  fromMain.onmessage = (event) => {
    const message = (event as { data: ToWorkers }).data;
    try {
      if (message.type === 'collect' && !ended) send({ type: 'metrics', threadId, id: message.id, metrics: prometheus.snapshot() });
      else if (message.type === 'end' && message.threadId === threadId) end('worker terminate');
    } catch (err) {
      agentError('worker-link', err);
    }
  };
  const onExit = () => end('worker exit');
  process.on('exit', onExit);
  send({ type: 'hello', threadId });

  return {
    stop() {
      process.off('exit', onExit);
      fromMain.close();
      toMain.close();
    },
  };
}
