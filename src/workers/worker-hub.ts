/**
 * The main thread's side of the agents in worker threads: their metrics for `/metrics`, and what
 * they left when they ended, for the process's report. Nothing here runs per SSPI call: a worker's
 * calls stay in the worker until a scrape asks for its metrics or the worker ends.
 *
 * A worker the app terminates runs none of its own handlers, so its `terminate()` first asks the
 * worker's agent to close its books (an idle worker answers at once; a busy one is terminated after
 * WORKER_END_WAIT_MS anyway, and is reported with the counts of its last answer).
 */
import { BroadcastChannel, type Worker } from 'node:worker_threads';
import { agentError, warn } from '../diagnostics.js';
import { endedThreadMetrics, exposition, mergeSnapshots } from '../exporters/merged-metrics.js';
import type { MetricObject } from '../exporters/series.js';
import type { ThreadReport } from '../exporters/thread-reports.js';
import { TO_MAIN, TO_WORKERS, type ToMain, type ToWorkers } from './protocol.js';

/** How long a scrape waits for the workers' metrics; a worker that does not answer counts with its last. */
export const COLLECT_WAIT_MS = 250;
/** How long `worker.terminate()` waits for the worker's agent to close its books. */
export const WORKER_END_WAIT_MS = 1000;
/** How long after a worker's exit its report, which comes over another channel, may still arrive. */
export const REPORT_WAIT_MS = 250;
/** Reports of ended workers kept for the process's report; later ones are counted in the metrics only. */
export const KEPT_THREAD_REPORTS = 100;

interface LiveWorker {
  /** Its last answer to a scrape. */
  metrics: MetricObject[];
  /** Settles once the worker's report came, or it was given up on. */
  readonly reported: Promise<void>;
  report(): void;
}

function liveWorker(): LiveWorker {
  let report = () => {};
  const reported = new Promise<void>((resolve) => (report = resolve));
  return { metrics: [], reported, report };
}

/** Resolves after `ms` without keeping the process alive for it. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class WorkerHub {
  private readonly toWorkers = new BroadcastChannel(TO_WORKERS);
  private readonly fromWorkers = new BroadcastChannel(TO_MAIN);
  /** Workers whose agent said hello and has not reported its end, by thread id. */
  private readonly live = new Map<number, LiveWorker>();
  /** What ended workers left in the totals, merged into one. */
  private ended: MetricObject[] = [];
  private readonly reports: ThreadReport[] = [];
  /** Scrapes waiting for answers: collect id → the threads yet to answer it. */
  private readonly waiting = new Map<number, { threads: Set<number>; done: () => void }>();
  private nextCollect = 1;
  private readonly terminates = new Map<Worker, Worker['terminate']>();

  constructor(
    private readonly ownMetrics: () => MetricObject[],
    /** This thread's exposition as it is: what a process with no worker serves. */
    private readonly ownExposition: () => Promise<string>,
  ) {
    this.toWorkers.unref();
    this.fromWorkers.unref();
    this.fromWorkers.onmessage = (event) => this.safely(() => this.receive((event as { data: ToMain }).data));
    process.on('worker', this.watch);
  }

  /** The process's exposition: this thread's metrics, every live worker's, and what ended ones left. */
  async metrics(): Promise<string> {
    if (this.live.size === 0 && this.ended.length === 0) return this.ownExposition();
    if (this.live.size > 0) await this.collect();
    const own = this.ownMetrics();
    return exposition(mergeSnapshots([own, ...[...this.live.values()].map((w) => w.metrics), this.ended]));
  }

  /** Reports of the workers that ended with handles left. */
  threadReports(): readonly ThreadReport[] {
    return this.reports;
  }

  stop(): void {
    process.off('worker', this.watch);
    for (const [worker, terminate] of this.terminates) worker.terminate = terminate;
    this.terminates.clear();
    this.toWorkers.close();
    this.fromWorkers.close();
  }

  private receive(message: ToMain): void {
    if (message.type === 'hello') this.live.set(message.threadId, liveWorker());
    else if (message.type === 'metrics') this.answered(message.threadId, message.metrics, message.id);
    else if (message.type === 'ended') this.workerEnded(message.threadId, message.report, message.metrics);
  }

  private answered(threadId: number, metrics: MetricObject[], collect: number): void {
    const worker = this.live.get(threadId);
    if (worker) worker.metrics = metrics;
    this.settled(threadId, collect);
  }

  /** `threadId` has answered scrape `collect` (or, with no id, every scrape: it is gone). */
  private settled(threadId: number, collect?: number): void {
    for (const [id, scrape] of this.waiting) {
      if (collect !== undefined && id !== collect) continue;
      scrape.threads.delete(threadId);
      if (scrape.threads.size === 0) scrape.done();
    }
  }

  /** A worker's books, as it closed them: its counts join the totals, its leaks the process's report. */
  private workerEnded(threadId: number, report: ThreadReport['report'], metrics: MetricObject[]): void {
    this.retire(threadId, metrics);
    if (report.total === 0) return;
    if (this.reports.length < KEPT_THREAD_REPORTS) this.reports.push({ threadId, report });
    const cleaned = report.cleanup.length > 0 ? `; the forced cleanup released ${report.cleanup.filter((c) => c.result === 'released').length}` : '';
    warn(`worker thread ${threadId} ended with ${report.total} live SSPI handles (${report.unsuppressed} unsuppressed)${cleaned}; the exit report lists them`);
  }

  /** Moves a worker's counts into the totals, once. */
  private retire(threadId: number, metrics: MetricObject[]): boolean {
    const worker = this.live.get(threadId);
    if (!worker) return false;
    this.live.delete(threadId);
    this.ended = mergeSnapshots([this.ended, endedThreadMetrics(metrics)]);
    worker.report();
    this.settled(threadId);
    return true;
  }

  /** Asks every live worker for its metrics, for at most COLLECT_WAIT_MS; an ending worker's report answers too. */
  private collect(): Promise<void> {
    const id = this.nextCollect++;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(done, COLLECT_WAIT_MS);
      timer.unref();
      this.waiting.set(id, { threads: new Set(this.live.keys()), done });
      this.post({ type: 'collect', id });
    });
  }

  /** Each worker the app creates: its `terminate()` lets the worker's agent close its books first. */
  private readonly watch = (worker: Worker): void => {
    this.safely(() => {
      // `worker.threadId` reads -1 once the worker has exited.
      const { threadId } = worker;
      const terminate = worker.terminate;
      const hub = this;
      this.terminates.set(worker, terminate);
      worker.terminate = function (this: Worker, ...args: Parameters<Worker['terminate']>) {
        return hub.endFirst(threadId).then(() => terminate.apply(this, args));
      } as Worker['terminate'];
      worker.once('exit', () => {
        this.terminates.delete(worker);
        if (worker.terminate !== terminate) worker.terminate = terminate;
        void this.exited(threadId);
      });
    });
  };

  /** Resolves once the worker's agent reported its end, or after WORKER_END_WAIT_MS; never rejects. */
  private async endFirst(threadId: number): Promise<void> {
    const worker = this.live.get(threadId);
    if (!worker) return;
    this.post({ type: 'end', threadId });
    await Promise.race([worker.reported, delay(WORKER_END_WAIT_MS)]);
    // No answer: the worker is busy in code of its own, and is terminated without its books.
    if (this.live.has(threadId)) this.gone(threadId);
  }

  /** A worker exited: its report may still be on its way over the other channel. */
  private async exited(threadId: number): Promise<void> {
    const worker = this.live.get(threadId);
    if (!worker) return;
    await Promise.race([worker.reported, delay(REPORT_WAIT_MS)]);
    if (this.live.has(threadId)) this.safely(() => this.gone(threadId));
  }

  /** A worker gone without a report (terminated while busy, or crashed): its last counts stay. */
  private gone(threadId: number): void {
    const worker = this.live.get(threadId);
    if (!worker || !this.retire(threadId, worker.metrics)) return;
    warn(`worker thread ${threadId} ended without reporting its SSPI handles (terminated while busy, or crashed); its counts are those of its last scrape`);
  }

  private post(message: ToWorkers): void {
    this.toWorkers.postMessage(message);
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      agentError('worker-hub', err);
    }
  }
}
