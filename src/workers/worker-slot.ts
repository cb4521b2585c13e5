/**
 * A few shared bytes per worker thread that the main thread can read without the worker's help: how
 * many SSPI handles the worker holds (so a `terminate()` of a worker holding none is not delayed), and,
 * once the worker closed its books, its report — readable while the main thread blocks in its 'exit'
 * handler, when no message can arrive any more.
 */
import type { LeakReport } from '../exporters/leak-report.js';

const LIVE = 0;
const STATE = 1;
const LENGTH = 2;
/** Always 0: what a worker holding still waits on. */
const HOLD = 3;
/** 1 while calls wait to be applied (they may have made handles the live count does not show yet). */
const WAITING = 4;
const HEADER_BYTES = 20;
/** Room for a report; a larger one keeps its groups and drops its per-handle list. */
export const REPORT_BYTES = 256 * 1024;

const OPEN = 0;
const REPORTED = 1;

export function createSlot(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + REPORT_BYTES);
}

const header = (slot: SharedArrayBuffer) => new Int32Array(slot, 0, 5);

/** The worker's side: one more, or one fewer, live handle. */
export function countLive(slot: SharedArrayBuffer, delta: 1 | -1): void {
  Atomics.add(header(slot), LIVE, delta);
}

export function markWaiting(slot: SharedArrayBuffer, waiting: boolean): void {
  Atomics.store(header(slot), WAITING, waiting ? 1 : 0);
}

export function liveHandles(slot: SharedArrayBuffer): number {
  return Atomics.load(header(slot), LIVE);
}

/** Whether the worker may hold handles: live ones, or calls not applied yet that may have made some. */
export function mayHoldHandles(slot: SharedArrayBuffer): boolean {
  const h = header(slot);
  return Atomics.load(h, LIVE) > 0 || Atomics.load(h, WAITING) === 1;
}

/** The report as JSON bytes that fit: without its per-handle list, then with fewer groups, if need be. */
function encode(report: LeakReport): Uint8Array {
  const encoder = new TextEncoder();
  let bytes = encoder.encode(JSON.stringify(report));
  let groups = report.groups.length;
  while (bytes.length > REPORT_BYTES) {
    bytes = encoder.encode(JSON.stringify({ ...report, handles: [], groups: report.groups.slice(0, groups) }));
    groups = Math.floor(groups / 2);
  }
  return bytes;
}

/** The worker's side: its report, where the main thread can read it, and a wake-up for a waiting reader. */
export function writeReport(slot: SharedArrayBuffer, report: LeakReport): void {
  const bytes = encode(report);
  new Uint8Array(slot, HEADER_BYTES, REPORT_BYTES).set(bytes);
  const h = header(slot);
  Atomics.store(h, LENGTH, bytes.length);
  Atomics.store(h, STATE, REPORTED);
  Atomics.notify(h, STATE);
}

/** The main thread's side: the report, waiting for it at most `ms` (blocking: only where nothing else can run). */
export function waitForReport(slot: SharedArrayBuffer, ms: number): LeakReport | undefined {
  const h = header(slot);
  if (Atomics.load(h, STATE) === OPEN) Atomics.wait(h, STATE, OPEN, ms);
  if (Atomics.load(h, STATE) !== REPORTED) return undefined;
  const bytes = new Uint8Array(slot, HEADER_BYTES, Atomics.load(h, LENGTH)).slice();
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as LeakReport;
  } catch {
    return undefined;
  }
}

/**
 * The worker's side, once its books are closed for a `terminate()`: nothing of the app's runs any
 * more until the terminate lands (it interrupts the wait), for at most `ms`.
 */
export function holdUntilTerminated(slot: SharedArrayBuffer, ms: number): void {
  Atomics.wait(header(slot), HOLD, 0, ms);
}
