/**
 * The main thread's side of worker threads as the agent starts it: the channel workers announce
 * themselves on, open from the start (a channel hears only what is posted after it opens), and a
 * listener for the first worker this thread creates. The hub (workers/worker-hub.ts) and the scrapes
 * that ask the workers for their metrics load when the first worker is created or announces itself;
 * a process without worker threads never loads them.
 */
import type { Worker } from 'node:worker_threads';
import { agentError } from './diagnostics.js';
import type { MetricObject } from './exporters/series.js';
import type { ThreadReport } from './exporters/thread-reports.js';
import { onDemand } from './on-demand.js';
import { HELLO, type Hello } from './workers/protocol.js';
import type * as WorkerHubModule from './workers/worker-hub.js';
import type { WorkerHub } from './workers/worker-hub.js';
import type * as WorkerScrapesModule from './workers/worker-scrapes.js';
import type { WorkerScrapes } from './workers/worker-scrapes.js';

// Taken from the built-in module, not imported: see "Start-up" in docs/architecture.md.
const { BroadcastChannel } = process.getBuiltinModule('node:worker_threads');

const workerHub = onDemand<typeof WorkerHubModule>('./workers/worker-hub.js');
const workerScrapes = onDemand<typeof WorkerScrapesModule>('./workers/worker-scrapes.js');

export interface ThisThreadMetrics {
  snapshot(): MetricObject[];
  metrics(): Promise<string>;
}

export class WorkerHubGate {
  private readonly hello = new BroadcastChannel(HELLO);
  private hub: { workers: WorkerHub; scrapes: WorkerScrapes } | undefined;
  private readonly onWorker = (worker: Worker) => this.wake({ worker });

  constructor(private readonly own: ThisThreadMetrics) {
    this.hello.unref();
    this.hello.onmessage = (event) => this.wake({ hello: (event as { data: Hello }).data });
    process.on('worker', this.onWorker);
  }

  /** `/metrics` for the whole process: this thread's alone until a worker starts. */
  metrics(): Promise<string> {
    return this.hub ? this.hub.scrapes.metrics() : this.own.metrics();
  }

  /** See `WorkerHub.threadReports`. */
  threadReports(now = false): readonly ThreadReport[] {
    return this.hub?.workers.threadReports(now) ?? [];
  }

  /** See `WorkerHub.retired`. */
  retired(threadId: number): Promise<void> {
    return this.hub?.workers.retired(threadId) ?? Promise.resolve();
  }

  stop(): void {
    process.off('worker', this.onWorker);
    if (this.hub) this.hub.workers.stop();
    else this.hello.close();
  }

  private wake(first: { worker?: Worker; hello?: Hello }): void {
    if (this.hub) return;
    try {
      process.off('worker', this.onWorker);
      const workers = new (workerHub().WorkerHub)(this.hello, first);
      const scrapes = new (workerScrapes().WorkerScrapes)(workers, () => this.own.snapshot(), () => this.own.metrics());
      this.hub = { workers, scrapes };
    } catch (err) {
      agentError('worker-hub', err);
    }
  }
}
