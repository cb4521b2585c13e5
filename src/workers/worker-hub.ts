/**
 * The main thread's side of the agents in worker threads: which workers have one, what they left when
 * they ended (their counts for the process's totals, their leaks for the process's report), and their
 * answers to scrapes (worker-scrapes.ts). Nothing here runs per SSPI call.
 *
 * A worker's end reaches the main thread in one of three ways: its agent's report (it ended by itself,
 * or was asked to before a `terminate()`); its exit without one (terminated while busy in code of its
 * own, or crashed: its counts are those of its last scrape); or, at the process's end, its report read
 * from its slot while the main thread waits in its 'exit' handler.
 */
import { BroadcastChannel, type Worker } from 'node:worker_threads';
import { agentError, warn } from '../diagnostics.js';
import * as clock from '../core/clock.js';
import type { MetricObject } from '../exporters/series.js';
import type { ThreadReport } from '../exporters/thread-reports.js';
import type { LeakReport } from '../exporters/leak-report.js';
import { EndedWorkers } from './ended-workers.js';
import { fromWorker, HELLO, TO_WORKERS, type FromWorker, type Hello, type ToWorkers } from './protocol.js';
import { watchChildWorkers } from './terminate-hook.js';
import { liveHandles, mayHoldHandles, waitForReport } from './worker-slot.js';

/** How long `worker.terminate()` of a worker holding SSPI handles waits for its agent to close its books. */
export const WORKER_END_WAIT_MS = 500;
/** How long after a worker's exit its report, which comes over another channel, may still arrive. */
export const REPORT_WAIT_MS = 250;
/** How long the process's end waits, in all, for the reports of the workers still running. */
export const EXIT_WAIT_MS = 500;
/** Reports of ended workers kept for the process's report; later ones are counted in the metrics only. */
export const KEPT_THREAD_REPORTS = 100;

export interface LiveWorker {
  readonly threadId: number;
  readonly slot: SharedArrayBuffer;
  readonly channel: BroadcastChannel;
  /** Its last answer to a scrape, and when it came (performance.now()). */
  metrics: MetricObject[];
  metricsAt: number;
  /** It exited; its report may still be on its way. */
  exited: boolean;
  readonly reported: Promise<void>;
  report(): void;
}

/** Resolves after `ms` without keeping the process alive for it. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class WorkerHub {
  private readonly toWorkers = new BroadcastChannel(TO_WORKERS);
  private readonly live = new Map<number, LiveWorker>();
  /**
   * The channels of the workers this thread created, opened as each is created, and what came over
   * them before its hello did: a channel hears only what is posted after it opens, and a worker that
   * ends quickly can post its report before the main thread has handled its hello.
   */
  private readonly early = new Map<number, { channel: BroadcastChannel; held: FromWorker[] }>();
  private readonly onWorker = (worker: Worker) => this.safely(() => this.expect(worker.threadId));
  /** What ended workers left in the totals. */
  private readonly ended = new EndedWorkers();
  private readonly reports: ThreadReport[] = [];
  private readonly unwatch: () => void;
  /** Where a worker's answer to a scrape goes. */
  onMetrics: (worker: LiveWorker, id: number) => void = () => {};
  /** Told when a worker's counts joined the totals (it ended, or stopped its agent). */
  onRetired: (worker: LiveWorker) => void = () => {};

  /**
   * `hello`: the channel workers announce themselves on, when it was opened before (the main thread
   * opens it at start, see worker-hub-gate.ts); `first`: the worker whose creation, or the hello that
   * came, made the hub, which its own listeners did not hear.
   */
  constructor(
    private readonly hello: BroadcastChannel = new BroadcastChannel(HELLO),
    first: { worker?: Worker; hello?: Hello } = {},
  ) {
    this.hello.unref();
    this.toWorkers.unref();
    this.hello.onmessage = (event) => this.safely(() => this.greet((event as { data: Hello }).data));
    const unwatch = watchChildWorkers(
      (threadId) => void this.exited(threadId),
      (threadId) => this.endFirst(threadId),
      first.worker,
    );
    if (first.worker) this.onWorker(first.worker);
    if (first.hello) this.safely(() => this.greet(first.hello!));
    process.on('worker', this.onWorker);
    this.unwatch = () => {
      unwatch();
      process.off('worker', this.onWorker);
    };
  }

  workers(): readonly LiveWorker[] {
    return [...this.live.values()];
  }

  /** The counts ended workers left in the process's totals. */
  endedMetrics(): readonly MetricObject[] {
    return this.ended.metrics();
  }

  post(message: ToWorkers): void {
    this.toWorkers.postMessage(message);
  }

  /**
   * Reports of the workers that ended with handles left. At the process's end (`now`), the workers
   * still running that hold handles are asked to close their books first, and waited for (blocking,
   * at most EXIT_WAIT_MS in all): Node stops them after the 'exit' handlers, running none of theirs.
   */
  threadReports(now = false): readonly ThreadReport[] {
    if (now) this.endRunningWorkers();
    return this.reports;
  }

  /** Resolves once the main thread is done with a worker (its report came, or it is counted gone); at once for a worker it does not know. */
  retired(threadId: number): Promise<void> {
    return this.live.get(threadId)?.reported ?? Promise.resolve();
  }

  stop(): void {
    this.unwatch();
    for (const worker of this.live.values()) worker.channel.close();
    this.live.clear();
    for (const { channel } of this.early.values()) channel.close();
    this.early.clear();
    this.hello.close();
    this.toWorkers.close();
  }

  private expect(threadId: number): void {
    const channel = new BroadcastChannel(fromWorker(threadId));
    channel.unref();
    const held: FromWorker[] = [];
    channel.onmessage = (event) => held.push((event as { data: FromWorker }).data);
    this.early.set(threadId, { channel, held });
  }

  private greet({ threadId, slot }: Hello): void {
    const early = this.early.get(threadId);
    this.early.delete(threadId);
    const channel = early?.channel ?? new BroadcastChannel(fromWorker(threadId));
    channel.unref();
    let report = () => {};
    const reported = new Promise<void>((resolve) => (report = resolve));
    const worker: LiveWorker = { threadId, slot, channel, metrics: [], metricsAt: 0, exited: false, reported, report };
    channel.onmessage = (event) => this.safely(() => this.receive(worker, (event as { data: FromWorker }).data));
    this.live.set(threadId, worker);
    for (const message of early?.held ?? []) this.safely(() => this.receive(worker, message));
  }

  private receive(worker: LiveWorker, message: FromWorker): void {
    if (message.type === 'metrics') {
      worker.metrics = message.metrics;
      worker.metricsAt = clock.now();
      this.onMetrics(worker, message.id);
    } else if (message.type === 'ended') {
      this.workerEnded(worker.threadId, message.report, message.metrics);
    } else if (message.type === 'stopped') {
      this.retire(worker.threadId, message.metrics, clock.now());
    } else if (message.type === 'child-exited') {
      void this.exited(message.threadId);
    } else if (message.type === 'terminating') {
      // A worker's own worker: its terminate waits for this answer, as the main thread's own would.
      const { threadId } = message;
      void this.endFirst(threadId).then(() => this.post({ type: 'terminate-ready', threadId }));
    }
  }

  /** A worker's books, as it closed them: its counts join the totals, its leaks the process's report. */
  private workerEnded(threadId: number, report: LeakReport, metrics: MetricObject[]): void {
    // Already counted as ended without a report (it came late): its counts stay those it left then.
    this.retire(threadId, metrics, clock.now());
    this.keep(threadId, report, true);
  }

  /** `announce`: say so now (a worker ending while the process runs on); at the process's end the report says it. */
  private keep(threadId: number, report: LeakReport, announce: boolean): void {
    if (report.total === 0 || this.reports.some((r) => r.threadId === threadId)) return;
    if (this.reports.length < KEPT_THREAD_REPORTS) this.reports.push({ threadId, report });
    if (!announce) return;
    const released = report.cleanup.filter((c) => c.result === 'released').length;
    const cleaned = report.cleanup.length > 0 ? `; the forced cleanup released ${released}` : '';
    warn(`worker thread ${threadId} ended with ${report.total} live SSPI handles (${report.unsuppressed} unsuppressed)${cleaned}; the exit report lists them`);
  }

  /** Moves a worker's counts, as they stood at `readAt`, into the totals, once. */
  private retire(threadId: number, metrics: readonly MetricObject[], readAt: number): boolean {
    const worker = this.live.get(threadId);
    if (!worker) return false;
    this.live.delete(threadId);
    worker.channel.close();
    this.ended.add(metrics, readAt);
    worker.report();
    this.onRetired(worker);
    return true;
  }

  /** Before a `terminate()`: a worker holding handles closes its books first, for at most WORKER_END_WAIT_MS. */
  private async endFirst(threadId: number): Promise<void> {
    const worker = this.live.get(threadId);
    if (!worker || !mayHoldHandles(worker.slot)) return;
    this.post({ type: 'end', threadId });
    await Promise.race([worker.reported, delay(WORKER_END_WAIT_MS)]);
    // No answer: busy in code of its own, it is terminated with its books open.
    this.safely(() => this.gone(threadId));
  }

  /** A worker exited: its report may still be on its way over its channel. */
  private async exited(threadId: number): Promise<void> {
    const worker = this.live.get(threadId);
    if (!worker) return this.forget(threadId);
    worker.exited = true;
    await Promise.race([worker.reported, delay(REPORT_WAIT_MS)]);
    this.safely(() => this.gone(threadId));
  }

  /** A worker that exited before its hello was handled: it may still come; one that never does had no agent. */
  private async forget(threadId: number): Promise<void> {
    if (!this.early.has(threadId)) return;
    await delay(REPORT_WAIT_MS);
    this.early.get(threadId)?.channel.close();
    this.early.delete(threadId);
  }

  /** A worker gone without a report (terminated while busy, or crashed): its last counts stay. */
  private gone(threadId: number): void {
    const worker = this.live.get(threadId);
    if (!worker) return;
    const held = liveHandles(worker.slot);
    const mayHold = mayHoldHandles(worker.slot);
    this.retire(threadId, worker.metrics, worker.metricsAt);
    if (!mayHold) return;
    const count = held > 0 ? `${held} live, or more` : 'some not counted yet';
    warn(`worker thread ${threadId} ended without reporting its SSPI handles (${count}: terminated while busy in its own code, or crashed); where they were made is unknown`);
  }

  private endRunningWorkers(): void {
    const holding = [...this.live.values()].filter((w) => !w.exited && mayHoldHandles(w.slot));
    for (const worker of holding) this.post({ type: 'end', threadId: worker.threadId });
    const deadline = Date.now() + EXIT_WAIT_MS;
    for (const worker of holding) {
      const report = waitForReport(worker.slot, Math.max(0, deadline - Date.now()));
      if (report) this.keep(worker.threadId, report, false);
    }
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      agentError('worker-hub', err);
    }
  }
}
