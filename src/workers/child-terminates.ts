/**
 * In a worker thread: the `terminate()` of a worker it created, held until the main thread says the
 * child may go. Only the main thread knows each worker's slot (whether it holds handles) and hears its
 * report, so the worker asks it (`terminating`), and it runs the same end-first as for its own
 * workers, then answers (`terminate-ready`). Without an answer (a main thread without the agent, or
 * busy in code of its own) the terminate goes on after CHILD_END_WAIT_MS.
 */
import { WORKER_END_WAIT_MS } from './worker-hub.js';
import type { FromWorker } from './protocol.js';

/** The main thread's own wait for the child, and time for the two messages around it. */
export const CHILD_END_WAIT_MS = WORKER_END_WAIT_MS + 250;

export class ChildTerminates {
  private readonly waiting = new Map<number, { promise: Promise<void>; done: () => void }>();

  constructor(private readonly send: (message: FromWorker) => void) {}

  /** What a child's `terminate()` waits for; never rejects. */
  before(child: number): Promise<void> {
    const known = this.waiting.get(child);
    if (known) return known.promise;
    let done = () => {};
    const promise = new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), CHILD_END_WAIT_MS);
      timer.unref();
      done = () => {
        clearTimeout(timer);
        this.waiting.delete(child);
        resolve();
      };
    });
    this.waiting.set(child, { promise, done });
    this.send({ type: 'terminating', threadId: child });
    return promise;
  }

  /** The main thread's answer. */
  ready(child: number): void {
    this.waiting.get(child)?.done();
  }

  /** The agent stops: no answer will come. */
  releaseAll(): void {
    for (const { done } of [...this.waiting.values()]) done();
  }
}
