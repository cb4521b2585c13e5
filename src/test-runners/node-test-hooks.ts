/**
 * The hooks of `sspi-agent/node-test` (node-test.ts), for Node's test runner. Node
 * runs each test file in a process of its own, with this preload; the preload registers root hooks
 * (`beforeEach`, `afterEach`, `after` at the top level apply to every test of the file, and a root
 * `afterEach` runs after the test's own). A test's handles left live after its `afterEach` hooks fail
 * it (the hook's error is the test's). node:test has no hook a plugin can add to a suite, so a suite's
 * end is seen when the next test is outside it (or the file ends), and its leaks fail the file's root
 * `after` hook; handles made in `beforeEach` hooks are the test's (its window opens before them).
 */
import { after, afterEach, beforeEach, type TestContext } from 'node:test';
import { isMainThread } from 'node:worker_threads';
import { agentError } from '../diagnostics.js';
import type { LeakOwner } from './leak-message.js';
import { LeakChecks, nextTurn, type LeakScope } from './leak-checks.js';
import { agentForTests } from './start.js';

/** How node:test joins a test's name to its suites' in `fullName`. */
const SEPARATOR = ' > ';

interface OpenSuite {
  readonly path: string;
  readonly scope: LeakScope;
}

class NodeTestLeakChecks {
  /** The suites the last test ran in, outermost first. */
  private suites: OpenSuite[] = [];
  /** Tests started and not done: a test's subtests run inside it. */
  private readonly running: Array<{ name: string; scope: LeakScope }> = [];
  /** Leaks of the suites that ended (and of the file's top level), said when the file ends. */
  private readonly suiteLeaks: string[] = [];
  private readonly file: LeakScope;

  constructor(
    private readonly checks: LeakChecks,
    private filePath: string | undefined = process.argv[1],
  ) {
    this.file = checks.scope({ kind: 'suite', title: '(top level)', file: this.filePath });
  }

  async beforeTest(t: TestContext): Promise<void> {
    await nextTurn();
    this.filePath ??= fileOf(t);
    const parent = this.running.at(-1);
    if (parent) {
      // A subtest: what its parent made so far is the parent's.
      this.checks.assign(parent.scope);
    } else {
      await this.enterSuites(suitePaths(t.fullName));
    }
    this.running.push({ name: t.fullName, scope: this.checks.scope({ kind: 'test', title: t.fullName, file: fileOf(t) ?? this.filePath }) });
  }

  async afterTest(t: TestContext): Promise<Error | undefined> {
    const done = this.running.pop();
    // Tests of one file run one at a time (subtests inside their parent) unless told to run concurrently.
    if (!done || done.name !== t.fullName) return undefined;
    return this.checks.verdict(await this.checks.close(done.scope));
  }

  async end(): Promise<Error | undefined> {
    await this.enterSuites([]);
    const leaks = await this.checks.close(this.file);
    if (leaks) this.suiteLeaks.push(leaks);
    if (this.suiteLeaks.length === 0) return undefined;
    return this.checks.verdict(this.suiteLeaks.splice(0).join('\n'));
  }

  /**
   * The next test runs in `paths`: the suites it is not in have ended (their `after` hooks ran), and
   * those it enters have run their `before` hooks. What was made since the last test is the
   * outermost entered suite's, else the innermost ended one's (its `after` hooks), else the file's.
   */
  private async enterSuites(paths: readonly string[]): Promise<void> {
    const kept = this.suites.filter((s, i) => paths[i] === s.path);
    const ended = this.suites.slice(kept.length).reverse();
    const entered = paths.slice(kept.length).map((path) => ({ path, scope: this.checks.scope(this.suiteOwner(path)) }));
    this.checks.assign(entered[0]?.scope ?? ended[0]?.scope ?? kept.at(-1)?.scope ?? this.file);
    for (const suite of ended) {
      const leaks = await this.checks.check(suite.scope);
      if (leaks) this.suiteLeaks.push(leaks);
    }
    this.suites = [...kept, ...entered];
  }

  private suiteOwner(path: string): LeakOwner {
    return { kind: 'suite', title: path, file: this.filePath };
  }
}

/** `a > b > test` → [`a`, `a > b`]. */
function suitePaths(fullName: string): string[] {
  const names = fullName.split(SEPARATOR).slice(0, -1);
  return names.map((_, i) => names.slice(0, i + 1).join(SEPARATOR));
}

function fileOf(t: TestContext): string | undefined {
  return (t as { filePath?: string }).filePath;
}

/** A process that runs test files: a child of `node --test`, or `--test` itself when it runs them in-process. */
function runsTests(): boolean {
  return process.env.NODE_TEST_CONTEXT !== undefined || process.execArgv.includes('--test');
}

export function install(): void {
  // A worker thread the tests start inherits the preload: it gets an agent, and no hooks of its own.
  const agent = agentForTests('sspi-agent/node-test');
  if (!isMainThread) return;
  // Outside a test runner's process a root hook would make node:test report an empty run at exit.
  if (!runsTests()) return;
  const mode = agent?.config.testLeaks;
  if (!agent || !mode || mode === 'off') return;
  const plugin = new NodeTestLeakChecks(new LeakChecks(agent, mode));
  const guarded = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      agentError('test-plugin.node-test', err);
      return undefined;
    }
  };
  beforeEach((t) => guarded(() => plugin.beforeTest(t as TestContext)));
  afterEach(async (t) => {
    const error = await guarded(() => plugin.afterTest(t as TestContext));
    if (error) throw error;
  });
  after(async () => {
    const error = await guarded(() => plugin.end());
    if (error) throw error;
  });
}

