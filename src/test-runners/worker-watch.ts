/**
 * The worker threads a test starts, as the `'worker'` event shows them to the thread that created
 * them: which ones a test (or suite) started, and whether each has exited, so that its agent's report
 * (what it left live) can be waited for and counted as that test's.
 */
import type { Worker } from 'node:worker_threads';

export interface StartedWorker {
  readonly threadId: number;
  exited: boolean;
}

export class WorkerWatch {
  private started: StartedWorker[] = [];
  private readonly onWorker = (worker: Worker) => {
    const entry: StartedWorker = { threadId: worker.threadId, exited: false };
    worker.once('exit', () => (entry.exited = true));
    this.started.push(entry);
  };

  constructor() {
    process.on('worker', this.onWorker);
  }

  /** The workers started since the last call. */
  take(): StartedWorker[] {
    if (this.started.length === 0) return [];
    const taken = this.started;
    this.started = [];
    return taken;
  }
}
