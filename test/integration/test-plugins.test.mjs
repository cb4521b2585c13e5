// sspi-agent/mocha and sspi-agent/node-test: fixture suites run as users run them, against real
// WinPR. A test leaking a context on its error path fails with a message naming it and each handle;
// freeing in afterEach, a suite's credential held from before to after, an `.async` release landing
// after the body returned: no leak; a suite forgetting its before's credential: the suite's leak;
// a worker thread's leak: the test's. warn prints, off does nothing, --parallel checks per worker,
// and a baseline of the reports passes the same suite and fails a new site.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../helpers/run-app.mjs';
import { shortPath } from '../../dist/test-runners/leak-message.js';
import { mochaFailures, packageDir, runMocha, runNodeTest, SUITES, withoutTimings } from '../helpers/run-suite.mjs';

const BINDING = join(REPO, 'examples', 'lib', 'sspi-binding.mjs');
// The binding lies outside the suites' directory: shown relative to it, or absolute when that is
// shorter (as for any path: how it shows depends on where the checkout is).
const bindingPath = (runner) => shortPath(BINDING, join(SUITES, runner));
const LOGINS = join(SUITES, 'lib', 'logins.mjs');
const HANDSHAKES = join(REPO, 'test', 'fixtures', 'support', 'handshakes.mjs');
const CLI = join(REPO, JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).bin['sspi-agent']);

/** The line of `file` holding `text` (the stacks in the messages name these lines). */
function lineOf(file, text) {
  const index = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text));
  assert.ok(index >= 0, `${text} not in ${file}`);
  return index + 1;
}

/** The messages each runner should print, without timings and columns (withoutTimings). */
function expected(runner) {
  const spec = 'logins.spec.mjs';
  const specFile = join(SUITES, runner, spec);
  const sep = runner === 'mocha' ? ' ' : ' > ';
  const suiteFrame = runner === 'mocha' ? 'Context.<anonymous>' : 'SuiteContext.<anonymous>';
  const workerSpec = 'workers.spec.mjs';
  const acquire = lineOf(BINDING, 'const status = raw.AcquireCredentialsHandleW(');
  return {
    errorPath: [
      `sspi-agent: test "logins${sep}refuses a wrong password" (${spec}) left 1 SSPI handle live:`,
      `  1 context [NTLM, inbound] created by AcceptSecurityContext at ${bindingPath(runner)}:${lineOf(BINDING, 'const status = raw.AcceptSecurityContext(')}`,
      `      at ../lib/logins.mjs:${lineOf(LOGINS, 'const challenge = sspi.acceptContext(')}`,
      `      at withSamFile (../../support/handshakes.mjs:${lineOf(HANDSHAKES, 'return fn(samFile);')})`,
      `      at login (../lib/logins.mjs:${lineOf(LOGINS, 'return withSamFile((samFile) => {')})`,
      `      at ${spec}:${lineOf(specFile, "login(server, 'wrong')")}`,
      '    history: AcceptSecurityContext SEC_I_CONTINUE_NEEDED +Nms, SetContextAttributesA SEC_E_OK +Nms, AcceptSecurityContext SEC_I_COMPLETE_NEEDED +Nms, CompleteAuthToken SEC_E_MESSAGE_ALTERED +Nms',
    ].join('\n'),
    suite: [
      `sspi-agent: suite "a suite that forgets its credential" (${spec}) left 1 SSPI handle, made in its before/beforeEach/after hooks, live:`,
      `  1 credential [NTLM, inbound] created by AcquireCredentialsHandleW at ${bindingPath(runner)}:${acquire}`,
      `      at Object.acquireServerCredentials (${bindingPath(runner)}:${lineOf(BINDING, 'return acquireCredentials(pkg, SECPKG_CRED_INBOUND')})`,
      `      at ${suiteFrame} (${spec}:${lineOf(specFile, 'server = sspi.acquireServerCredentials();') + forgottenOffset(specFile)})`,
    ].join('\n'),
    worker: [
      `sspi-agent: test "workers${sep}leaks a credential in a worker thread" (${workerSpec}) left 1 SSPI handle live:`,
      `  1 credential [NTLM, outbound] created by AcquireCredentialsHandleW in worker thread 1 at ${bindingPath(runner)}:${acquire}`,
      `      at Object.acquireClientCredentials (${bindingPath(runner)}:${lineOf(BINDING, 'return acquireCredentials(pkg, SECPKG_CRED_OUTBOUND')})`,
      `      at ../lib/leaky-worker.mjs:${lineOf(join(SUITES, 'lib', 'leaky-worker.mjs'), 'sspi.acquireClientCredentials(USER);')}`,
    ].join('\n'),
  };
}

/** The forgetting suite's `before` is the second `server = …` line of the spec. */
function forgottenOffset(specFile) {
  const lines = readFileSync(specFile, 'utf8').split('\n');
  const hits = lines.flatMap((l, i) => (l.includes('server = sspi.acquireServerCredentials();') ? [i + 1] : []));
  return hits[1] - hits[0];
}

const explainRun = (run) => `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

describe('sspi-agent/mocha', function () {
  this.timeout(120_000);
  let modules;
  let dir;
  before(function () {
    modules = packageDir();
    dir = mkdtempSync(join(tmpdir(), 'sspi-plugin-'));
  });
  after(function () {
    modules?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fails the test that leaked, the suite whose before leaked, and the test whose worker leaked, with mocha’s own failure output', async function () {
    const run = await runMocha(modules);
    const want = expected('mocha');
    assert.equal(run.code, 3, explainRun(run));
    assert.match(run.stdout, /^ {2}7 passing/m);
    assert.deepEqual(
      mochaFailures(run.stdout).map((f) => ({ title: f.title, message: withoutTimings(f.message) })),
      [
        { title: 'logins / refuses a wrong password', message: want.errorPath },
        { title: 'a suite that forgets its credential / "after all" hook: sspi-agent: handles the suite left live in "a suite that forgets its credential"', message: want.suite },
        { title: 'workers / leaks a credential in a worker thread', message: want.worker },
      ],
      run.stdout,
    );
  });

  it('warn prints the same messages and fails nothing; off checks nothing', async function () {
    const warned = await runMocha(modules, [], { SSPI_AGENT_TEST_LEAKS: 'warn' });
    assert.equal(warned.code, 0, explainRun(warned));
    assert.match(warned.stdout, /^ {2}7 passing/m);
    assert.doesNotMatch(warned.stdout, /failing/);
    const want = expected('mocha');
    const printed = withoutTimings(warned.stderr);
    for (const message of Object.values(want)) assert.ok(printed.includes(message + '\n'), `${message}\n--- not in stderr:\n${printed}`);

    const off = await runMocha(modules, [], { SSPI_AGENT_TEST_LEAKS: 'off' });
    assert.equal(off.code, 0, explainRun(off));
    assert.doesNotMatch(off.stdout + off.stderr, /sspi-agent: (test|suite) "/);
  });

  it('a bad SSPI_AGENT_TEST_LEAKS is named, and the default (fail) used', async function () {
    const run = await runMocha(modules, [], { SSPI_AGENT_TEST_LEAKS: 'sometimes' });
    assert.match(run.stderr, /sspi-agent: SSPI_AGENT_TEST_LEAKS="sometimes" is not valid \(expected fail \| warn \| off\); using the default fail/);
    assert.equal(run.code, 3, explainRun(run));
  });

  it('--parallel: each worker process checks its own tests; the two reports merge', async function () {
    const reports = join(dir, 'parallel');
    const run = await runMocha(modules, ['--parallel', '--jobs', '2'], { SSPI_AGENT_REPORT_FILE: `${reports}-%p.json` });
    assert.equal(run.code, 3, explainRun(run));
    const want = expected('mocha');
    const messages = mochaFailures(run.stdout).map((f) => withoutTimings(f.message));
    assert.deepEqual(new Set(messages), new Set(Object.values(want)), run.stdout);
    // One report per process: mocha's own (which loads the plugin and runs no test) and each worker's.
    const files = readdirSync(dir).filter((f) => f.startsWith('parallel-')).map((f) => join(dir, f));
    const leaky = files.filter((f) => JSON.parse(readFileSync(f, 'utf8')).total > 0);
    assert.equal(leaky.length, 2, `the two worker processes' reports have leaks: ${files}`);
    const merged = spawnSync(process.execPath, [CLI, 'report', ...files], { encoding: 'utf8', cwd: join(SUITES, 'mocha') });
    assert.equal(merged.status, 0, merged.stderr);
    assert.match(merged.stdout, new RegExp(`^sspi-agent: 3 SSPI handles leaked in ${files.length} reports \\(2 credentials, 1 context\\), 3 allocation sites\n`));
    if (process.env.SSPI_PLUGIN_SHOW_OUTPUT) process.stdout.write(`--- mocha --parallel\n${run.stdout}\n--- sspi-agent report\n${merged.stdout}`);
  });

  it('a baseline of the reports passes the same suite, and fails it once a new site leaks', async function () {
    const report = join(dir, 'baseline-report.json');
    const first = await runMocha(modules, [], { SSPI_AGENT_REPORT_FILE: report });
    assert.equal(first.code, 3, explainRun(first));
    const baseline = spawnSync(process.execPath, [CLI, 'baseline', report], { encoding: 'utf8', cwd: join(SUITES, 'mocha') });
    assert.equal(baseline.status, 0, baseline.stderr);
    const supp = join(dir, 'sspi-agent.supp');
    writeFileSync(supp, baseline.stdout);

    const same = await runMocha(modules, [], { SSPI_AGENT_SUPPRESSIONS: supp });
    assert.equal(same.code, 0, explainRun(same));
    assert.match(same.stdout, /^ {2}7 passing/m);

    const added = await runMocha(modules, [], { SSPI_AGENT_SUPPRESSIONS: supp, FIXTURE_NEW_SITE: '1' });
    assert.equal(added.code, 1, explainRun(added));
    const failures = mochaFailures(added.stdout);
    assert.deepEqual(failures.map((f) => f.title), ['logins / forgets a credential at a new site'], added.stdout);
    assert.match(failures[0].message, /^sspi-agent: test "logins forgets a credential at a new site" \(logins\.spec\.mjs\) left 1 SSPI handle live:\n {2}1 credential \[NTLM, outbound\] created by AcquireCredentialsHandleW at /);
  });
});

describe('sspi-agent/node-test', function () {
  this.timeout(120_000);

  const failures = (run) => run.results.filter((r) => r.result === 'fail' && !/^\d+ subtests? failed$/.test(r.message));

  it('fails the test that leaked and the test whose worker leaked; the suite’s leak fails the file’s after hook', async function () {
    const run = await runNodeTest(['logins.spec.mjs', 'workers.spec.mjs']);
    assert.equal(run.code, 1, explainRun(run));
    const want = expected('node-test');
    assert.deepEqual(
      failures(run).map((f) => ({ name: f.name.replace(/^.*[\\/]dist[\\/]/, 'dist/'), message: withoutTimings(f.message) })),
      [
        { name: 'refuses a wrong password', message: want.errorPath },
        { name: 'dist/bundle/test-runners/node-test-hooks.js', message: want.suite },
        { name: 'leaks a credential in a worker thread', message: want.worker },
      ],
      run.stdout,
    );
    const passed = run.results.filter((r) => r.result === 'pass' && r.kind === 'test').map((r) => r.name);
    assert.deepEqual(passed.sort(), ['frees with .async after the body returned', 'is freed by afterEach', 'logs in with the right password', 'starts no worker', 'uses it']);
  });

  it('warn prints the messages and fails nothing; off checks nothing', async function () {
    const warned = await runNodeTest(['logins.spec.mjs'], { SSPI_AGENT_TEST_LEAKS: 'warn' });
    assert.equal(warned.code, 0, explainRun(warned));
    const want = expected('node-test');
    const printed = withoutTimings(warned.testStderr);
    for (const message of [want.errorPath, want.suite]) assert.ok(printed.includes(message + '\n'), `${message}\n--- not in stderr:\n${printed}`);
    const off = await runNodeTest(['logins.spec.mjs'], { SSPI_AGENT_TEST_LEAKS: 'off' });
    assert.equal(off.code, 0, explainRun(off));
    assert.doesNotMatch(off.stdout + off.stderr, /sspi-agent: (test|suite) "/);
    assert.deepEqual(failures(off), []);
  });
});
