/**
 * What the main thread and the agents in worker threads say to each other. Each worker answers on a
 * channel of its own, so that its answers are cloned for the main thread only (a BroadcastChannel
 * instance receives every message posted on its name, listener or not).
 */
import type { LeakReport } from '../exporters/leak-report.js';
import type { MetricObject } from '../exporters/series.js';

/** Where a worker's agent says it started, once, with its slot. */
export const HELLO = 'sspi-agent:hello';
/** Where the main thread asks the workers: for their metrics (a scrape), or one of them to end its books. */
export const TO_WORKERS = 'sspi-agent:to-workers';
/** Where one worker answers. */
export const fromWorker = (threadId: number) => `sspi-agent:from-worker:${threadId}`;

export interface Hello {
  threadId: number;
  /** The worker's slot (worker-slot.ts): its live-handle count and, at its end, its report. */
  slot: SharedArrayBuffer;
}

/**
 * `terminate-ready`: the answer to a worker's `terminating` — the child it is about to terminate
 * closed its books, holds no handle, or did not answer in time: its terminate may go on.
 */
export type ToWorkers = { type: 'collect'; id: number } | { type: 'end'; threadId: number } | { type: 'terminate-ready'; threadId: number };

/**
 * A worker's metrics for one collect; its books at its end; a child worker of its that exited, or
 * that it is about to terminate (the `'worker'` event reaches only the thread that made it, while
 * only the main thread knows each worker's slot and hears its report); its agent stopped.
 */
export type FromWorker =
  | { type: 'metrics'; id: number; metrics: MetricObject[] }
  | { type: 'ended'; report: LeakReport; metrics: MetricObject[] }
  | { type: 'child-exited'; threadId: number }
  | { type: 'terminating'; threadId: number }
  | { type: 'stopped'; metrics: MetricObject[] };
