/**
 * `/metrics` for the whole process: this thread's metrics, every live worker's, and what ended workers
 * left. At each scrape the workers' agents are asked for theirs; a worker that does not answer within
 * COLLECT_WAIT_MS (busy in code of its own) counts with its last answer.
 */
import { exposition, mergeSnapshots } from '../exporters/merged-metrics.js';
import type { MetricObject } from '../exporters/series.js';
import type { WorkerHub } from './worker-hub.js';

export const COLLECT_WAIT_MS = 250;

export class WorkerScrapes {
  /** Scrapes waiting for answers: collect id → the threads yet to answer it. */
  private readonly waiting = new Map<number, { threads: Set<number>; done: () => void }>();
  private nextId = 1;

  constructor(
    private readonly hub: WorkerHub,
    private readonly ownMetrics: () => MetricObject[],
    /** This thread's exposition as it is: what a process with no worker serves. */
    private readonly ownExposition: () => Promise<string>,
  ) {
    hub.onMetrics = (worker, id) => this.answered(worker.threadId, id);
    // A worker that ends answers every scrape waiting for it, with its report.
    hub.onRetired = (worker) => {
      for (const id of this.waiting.keys()) this.answered(worker.threadId, id);
    };
  }

  async metrics(): Promise<string> {
    const ended = this.hub.endedMetrics();
    if (this.hub.workers().length === 0 && ended.length === 0) return this.ownExposition();
    await this.collect();
    const workers = this.hub.workers().map((w) => w.metrics);
    return exposition(mergeSnapshots([this.ownMetrics(), ...workers, this.hub.endedMetrics()]));
  }

  private answered(threadId: number, id: number): void {
    const scrape = this.waiting.get(id);
    if (!scrape) return;
    scrape.threads.delete(threadId);
    if (scrape.threads.size === 0) scrape.done();
  }

  /** Asks the running workers for their metrics; resolves when all answered, ended, or after COLLECT_WAIT_MS. */
  private collect(): Promise<void> {
    const running = this.hub.workers().filter((w) => !w.exited);
    if (running.length === 0) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(done, COLLECT_WAIT_MS);
      timer.unref();
      this.waiting.set(id, { threads: new Set(running.map((w) => w.threadId)), done });
      this.hub.post({ type: 'collect', id });
    });
  }
}
