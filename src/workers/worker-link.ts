/**
 * The agent in a worker thread, as the main thread sees it. The worker's agent tracks, guards and
 * reports its own calls like the main thread's; this link answers the main thread's scrapes with the
 * worker's metrics, keeps its live-handle count in its slot, and, when the worker's life ends, closes
 * its books (leaks declared, the forced cleanup if asked, with the worker's own bindings) and hands
 * the report to the main thread, which prints it and writes it with the process's.
 *
 * A worker ends through its 'exit' event (its loop ran empty, `process.exit()`, an uncaught
 * exception), or, since `worker.terminate()` and the process's end run none of its handlers, when the
 * main thread asks it to first.
 */
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { closeBooks } from '../closing-report.js';
import { cleanupCovers } from '../cleanup.js';
import type { AgentConfig } from '../config.js';
import { agentError } from '../diagnostics.js';
import type { PrometheusGate } from '../prometheus-gate.js';
import type { HandleRegistry } from '../core/registry.js';
import type { Suppressions } from '../suppressions.js';
import { fromWorker, HELLO, TO_WORKERS, type FromWorker, type Hello, type ToWorkers } from './protocol.js';
import { ChildTerminates } from './child-terminates.js';
import { watchChildWorkers } from './terminate-hook.js';
import { countLive, createSlot, holdUntilTerminated, markWaiting, writeReport } from './worker-slot.js';

/** How long a worker that closed its books for a terminate waits for it before its app code may go on. */
const HOLD_FOR_TERMINATE_MS = 5000;

export interface WorkerLink {
  stop(): void;
}

export function linkWorker(registry: HandleRegistry, prometheus: PrometheusGate, config: AgentConfig, suppressions: Suppressions | undefined): WorkerLink {
  const slot = createSlot();
  const toMain = new BroadcastChannel(fromWorker(threadId));
  const fromMain = new BroadcastChannel(TO_WORKERS);
  // The link never keeps a worker alive: a worker ends when the app's work in it does.
  toMain.unref();
  fromMain.unref();
  let ended = false;
  const send = (message: FromWorker) => toMain.postMessage(message);

  const unsubscribe = registry.subscribe({ onOpen: () => countLive(slot, 1), onClose: () => countLive(slot, -1) });
  registry.log.onWaiting = (waiting) => markWaiting(slot, waiting);
  const children = new ChildTerminates(send);
  const unwatch = watchChildWorkers(
    (child) => send({ type: 'child-exited', threadId: child }),
    (child) => children.before(child),
  );

  function end(reason: string): boolean {
    if (ended) return false;
    ended = true;
    try {
      // Calls made from here on are applied as they return: the thread has no turn left to batch them.
      registry.log.stopDeferring();
      const report = closeBooks(registry, reason, cleanupCovers(config.cleanup, 'exit'), suppressions);
      writeReport(slot, report);
      send({ type: 'ended', report, metrics: prometheus.snapshot() });
    } catch (err) {
      agentError('worker-link', err);
    }
    return true;
  }

  fromMain.onmessage = (event) => {
    const message = (event as { data: ToWorkers }).data;
    try {
      if (message.type === 'collect' && !ended) send({ type: 'metrics', id: message.id, metrics: prometheus.snapshot() });
      // The terminate comes next: the app's code here must not run on with the books closed.
      else if (message.type === 'end' && message.threadId === threadId && end('worker terminate')) holdUntilTerminated(slot, HOLD_FOR_TERMINATE_MS);
      else if (message.type === 'terminate-ready') children.ready(message.threadId);
    } catch (err) {
      agentError('worker-link', err);
    }
  };
  const onExit = () => end('worker exit');
  process.on('exit', onExit);
  const hello = new BroadcastChannel(HELLO);
  hello.postMessage({ threadId, slot } satisfies Hello);
  hello.close();

  return {
    stop() {
      process.off('exit', onExit);
      unsubscribe();
      registry.log.onWaiting = undefined;
      unwatch();
      children.releaseAll();
      if (!ended) send({ type: 'stopped', metrics: prometheus.snapshot() });
      fromMain.close();
      toMain.close();
    },
  };
}
