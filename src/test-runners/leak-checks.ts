/**
 * The per-test leak check, whatever the runner: what was made between two points of a run (handles
 * still live, worker threads started) is given to a test or a suite (`assign`), and checked when that
 * test or suite is done (`check`). The runner adapters (mocha.ts, node-test.ts) say which points.
 */
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

export { nextTurn };
import type { Agent } from '../agent.js';
import type { TestLeaks } from '../config.js';
import { buildLeakReport } from '../exporters/leak-report.js';
import type { Suppressions } from '../suppressions.js';
import type { TrackedHandle } from '../types.js';
import { leakMessage, type LeakOwner, type SiteLeak } from './leak-message.js';
import { LiveSince } from './live-since.js';
import { WorkerWatch, type StartedWorker } from './worker-watch.js';

/**
 * How long a handle made in a test may take to go once the test is done: an `.async` release issued
 * at its end completes on koffi's thread pool, usually within one turn. Waited only while some
 * handle of the test is still live, so a test that leaks nothing waits one turn.
 */
export const ASYNC_GRACE_MS = 50;
/** The longest a check waits for the report of a worker the test started and saw exit. */
export const WORKER_REPORT_WAIT_MS = 300;

/** What a test or a suite made: its candidates for leaks. */
export interface LeakScope {
  readonly owner: LeakOwner;
  readonly handles: TrackedHandle[];
  readonly workers: StartedWorker[];
}

export class LeakChecks {
  private readonly since: LiveSince;
  private readonly workers = new WorkerWatch();
  private readonly suppressions: Suppressions | undefined;

  constructor(
    private readonly agent: Agent,
    readonly mode: Exclude<TestLeaks, 'off'>,
  ) {
    this.since = new LiveSince(agent.handles);
    this.suppressions = agent.suppressions;
  }

  scope(owner: LeakOwner): LeakScope {
    return { owner, handles: [], workers: [] };
  }

  /** What was made since the last point (handles live now, workers started) becomes `scope`'s. */
  assign(scope: LeakScope): void {
    const handles = this.since.take();
    if (handles.length > 0) scope.handles.push(...handles);
    const workers = this.workers.take();
    if (workers.length > 0) scope.workers.push(...workers);
  }

  /**
   * Closes the scope: what was made up to now is its (after a turn, for `.async` callbacks of its
   * calls), then its leaks as a message, or undefined: its handles still live once their `.async`
   * releases had time to land, and what the workers it saw exit left.
   */
  async close(scope: LeakScope): Promise<string | undefined> {
    await nextTurn();
    this.assign(scope);
    return this.check(scope);
  }

  /** The scope's leaks as a message, or undefined (what `close` does once the scope has what it made). */
  async check(scope: LeakScope): Promise<string | undefined> {
    if (scope.handles.length === 0 && scope.workers.length === 0) return undefined;
    let live = this.stillLive(scope.handles);
    for (let waited = 0; live.length > 0 && waited < ASYNC_GRACE_MS; waited++) {
      await sleep(1);
      live = this.stillLive(live);
    }
    const sites: SiteLeak[] = live.length > 0 ? buildLeakReport(live, 'test', { suppressions: this.suppressions }).groups : [];
    sites.push(...(await this.workerLeaks(scope.workers)));
    return leakMessage(scope.owner, sites);
  }

  /** Says what `check` found, as the mode wants: the error to fail with (`fail`), or nothing after printing it (`warn`). */
  verdict(message: string | undefined): Error | undefined {
    if (message === undefined) return undefined;
    if (this.mode === 'warn') {
      process.stderr.write(message + '\n');
      return undefined;
    }
    const error = new Error(message);
    error.name = 'SspiLeakError';
    // The message says where; the plugin's own frames would say nothing.
    error.stack = `${error.name}: ${message}`;
    return error;
  }

  private stillLive(handles: readonly TrackedHandle[]): TrackedHandle[] {
    return handles.filter((h) => this.since.isLive(h));
  }

  /** What the scope's workers that exited left live, from their reports. Workers still running are not checked. */
  private async workerLeaks(workers: readonly StartedWorker[]): Promise<SiteLeak[]> {
    const ended = workers.filter((w) => w.exited);
    if (ended.length === 0) return [];
    const reported = Promise.all(ended.map((w) => this.agent.threads.retired(w.threadId)));
    await Promise.race([reported, sleep(WORKER_REPORT_WAIT_MS, undefined, { ref: false })]);
    const ids = new Set(ended.map((w) => w.threadId));
    return this.agent.threads
      .reports()
      .filter((r) => ids.has(r.threadId))
      .flatMap((r) => r.report.groups.map((g) => ({ ...g, thread: r.threadId })));
  }
}
