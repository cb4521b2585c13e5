/**
 * The workers a thread creates, seen through the `'worker'` event (it reaches only the thread that
 * created them): when each exits, and, where the thread can ask the worker's agent to close its books
 * first, its `terminate()` (which runs none of the worker's own handlers).
 */
import type { Worker } from 'node:worker_threads';
import { agentError } from '../diagnostics.js';

/** What runs before a worker's terminate: resolves when it may go on; never rejects. */
export type BeforeTerminate = (threadId: number) => Promise<void>;

export function watchChildWorkers(onExit: (threadId: number) => void, beforeTerminate?: BeforeTerminate, first?: Worker): () => void {
  const watched = new Map<Worker, { terminate: Worker['terminate']; own: boolean; exited: () => void }>();

  const watch = (worker: Worker) => {
    try {
      // `worker.threadId` reads -1 once the worker has exited.
      const { threadId } = worker;
      const terminate = worker.terminate;
      const own = Object.prototype.hasOwnProperty.call(worker, 'terminate');
      if (beforeTerminate) {
        worker.terminate = function (this: Worker, ...args: Parameters<Worker['terminate']>) {
          return beforeTerminate(threadId).then(() => terminate.apply(this, args));
        } as Worker['terminate'];
      }
      const exited = () => {
        restore(worker);
        try {
          onExit(threadId);
        } catch (err) {
          agentError('worker-watch', err);
        }
      };
      watched.set(worker, { terminate, own, exited });
      worker.once('exit', exited);
    } catch (err) {
      agentError('worker-watch', err);
    }
  };

  function restore(worker: Worker): void {
    const entry = watched.get(worker);
    if (!entry) return;
    watched.delete(worker);
    worker.off('exit', entry.exited);
    if (entry.own) worker.terminate = entry.terminate;
    else delete (worker as Partial<Worker>).terminate;
  }

  if (first) watch(first);
  process.on('worker', watch);
  return () => {
    process.off('worker', watch);
    for (const worker of [...watched.keys()]) restore(worker);
  };
}
