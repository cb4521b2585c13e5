/**
 * What the main thread and the agents in worker threads say to each other. Two broadcast channels,
 * so that a worker's answer is cloned for the main thread only, not for every other worker.
 */
import type { LeakReport } from '../exporters/leak-report.js';
import type { MetricObject } from '../exporters/series.js';

export const TO_WORKERS = 'sspi-agent:to-workers';
export const TO_MAIN = 'sspi-agent:to-main';

/** The main thread asks every worker for its metrics (a scrape), or one worker to end its books now (a terminate). */
export type ToWorkers = { type: 'collect'; id: number } | { type: 'end'; threadId: number };

/** A worker's agent started; its metrics for one collect; its books at its end. */
export type ToMain =
  | { type: 'hello'; threadId: number }
  | { type: 'metrics'; threadId: number; id: number; metrics: MetricObject[] }
  | { type: 'ended'; threadId: number; report: LeakReport; metrics: MetricObject[] };
