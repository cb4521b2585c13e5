/**
 * The hooks of `sspi-agent/mocha` (mocha.ts): each test's handles left live after its `afterEach` hooks fail it, and each suite's (made in its
 * `before`/`beforeEach`/`after` hooks) fail the suite after its `after` hooks.
 *
 * A root hook runs first among hooks of its kind, so the plugin's one root hook (`beforeAll`) adds,
 * at the start of each run, hooks of its own at the end of each suite's lists: where a suite's
 * `before` hooks end, where its `beforeEach` hooks end (the test's body starts), where the root's
 * `afterEach` hooks end (the last of a test's hooks), and where its `after` hooks end. A test's leak
 * fails the test through the hook's `error()` (mocha then fails the test the hook ran for, and goes
 * on with the run); a suite's is the failure of its last `after all` hook.
 */
import type { LeakOwner } from './leak-message.js';
import { LeakChecks, type LeakScope } from './leak-checks.js';
import { agentForTests } from './start.js';
import { agentError } from '../diagnostics.js';

/** The little of mocha's objects the plugin uses (mocha's own types are not a dependency). */
interface MochaTest {
  title: string;
  file?: string;
  parent?: MochaSuite;
  fullTitle(): string;
}
interface MochaSuite {
  root: boolean;
  file?: string;
  tests: MochaTest[];
  suites: MochaSuite[];
  fullTitle(): string;
  beforeAll(title: string, fn: (this: HookContext) => unknown): unknown;
  beforeEach(title: string, fn: (this: HookContext) => unknown): unknown;
  afterEach(title: string, fn: (this: HookContext) => unknown): unknown;
  afterAll(title: string, fn: (this: HookContext) => unknown): unknown;
}
interface MochaHook {
  parent?: MochaSuite;
  error(err: Error): void;
}
interface HookContext {
  /** In a hook: the hook itself. */
  test?: MochaHook;
  currentTest?: MochaTest;
}

function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    agentError('test-plugin.mocha', err);
    return undefined;
  }
}

function suiteFile(suite: MochaSuite): string | undefined {
  return suite.file ?? suite.tests[0]?.file ?? suite.suites.map(suiteFile).find((f) => f !== undefined);
}

class MochaLeakChecks {
  private readonly instrumented = new WeakSet<MochaSuite>();
  private readonly suites = new WeakMap<MochaSuite, LeakScope>();

  constructor(private readonly checks: LeakChecks) {}

  /** Adds the plugin's hooks to the run's suites, once per suite (a `--watch` re-run has new ones). */
  instrument(suite: MochaSuite): void {
    if (this.instrumented.has(suite)) return;
    this.instrumented.add(suite);
    const plugin = this;
    suite.beforeAll('sspi-agent: end of before hooks', () => safely(() => plugin.checks.assign(plugin.suiteScope(suite))));
    if (suite.tests.length > 0) {
      suite.beforeEach('sspi-agent: end of beforeEach hooks', function () {
        safely(() => plugin.checks.assign(plugin.suiteScope(this.currentTest?.parent ?? suite)));
      });
    }
    if (suite.root) {
      suite.afterEach('sspi-agent: handles the test left live', async function () {
        const test = this.currentTest;
        const hook = this.test;
        if (!test || !hook) return;
        const error = await plugin.checkTest(test);
        // Mocha fails the test this hook ran for with it, after the hook, and runs on.
        if (error) hook.error(error);
      });
    }
    suite.afterAll('sspi-agent: handles the suite left live', async () => {
      const error = await plugin.checkSuite(suite);
      if (error) throw error;
    });
    for (const child of suite.suites) this.instrument(child);
  }

  private suiteScope(suite: MochaSuite): LeakScope {
    let scope = this.suites.get(suite);
    if (!scope) {
      const owner: LeakOwner = { kind: 'suite', title: suite.root ? '(root)' : suite.fullTitle(), file: suiteFile(suite) };
      this.suites.set(suite, (scope = this.checks.scope(owner)));
    }
    return scope;
  }

  private async checkTest(test: MochaTest): Promise<Error | undefined> {
    try {
      const scope = this.checks.scope({ kind: 'test', title: test.fullTitle(), file: test.file });
      return this.checks.verdict(await this.checks.close(scope));
    } catch (err) {
      agentError('test-plugin.mocha', err);
      return undefined;
    }
  }

  private async checkSuite(suite: MochaSuite): Promise<Error | undefined> {
    try {
      const scope = this.suiteScope(suite);
      this.suites.delete(suite);
      return this.checks.verdict(await this.checks.close(scope));
    } catch (err) {
      agentError('test-plugin.mocha', err);
      return undefined;
    }
  }
}

export function rootHooks(): Record<string, (this: HookContext) => void> {
  const agent = agentForTests('sspi-agent/mocha');
  const mode = agent?.config.testLeaks;
  if (!agent || !mode || mode === 'off') return {};
  const plugin = new MochaLeakChecks(new LeakChecks(agent, mode));
  return {
    beforeAll(this: HookContext) {
      const root = this.test?.parent;
      if (root) safely(() => plugin.instrument(root));
    },
  };
}
