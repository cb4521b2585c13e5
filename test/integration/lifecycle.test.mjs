// The leak lifecycle on real WinPR: definite leaks, stale and abandoned handles, the double-free
// guard, out-of-order release, buffers, fail-on-leak, suppressions and the forced ordered cleanup
// on every way a process ends. Each app runs under `node --import sspi-agent`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runApp, explain, REPO, FIXTURES } from '../helpers/run-app.mjs';

const SCENARIO = 'lifecycle/scenario.mjs';
const scenario = (name, options = {}) => runApp(SCENARIO, { ...options, args: [name, ...(options.args ?? [])] });
const SEC_E_INVALID_HANDLE = 0x80090301 | 0;

/** Starts a scenario that waits, sends it `signal` once it is ready, and collects how it ended. */
async function signalled(how, signal, env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sspi-agent-signal-'));
  const reportFile = join(dir, 'report.json');
  const child = spawn(process.execPath, ['--import', 'sspi-agent', join(FIXTURES, SCENARIO), 'leakThenEnd', how], {
    cwd: REPO,
    env: { ...process.env, WLOG_LEVEL: 'OFF', SSPI_AGENT_METRICS_PORT: '0', SSPI_AGENT_REPORT_FILE: reportFile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  while (!stdout.includes('"ready"')) await once(child.stdout, 'data');
  child.kill(signal);
  const [code, sig] = await once(child, 'exit');
  const report = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, 'utf8')) : undefined;
  rmSync(dir, { recursive: true, force: true });
  return { code, signal: sig, stdout, stderr, report };
}

/** Every context deleted before any credential is freed, each handle once, all with SEC_E_OK. */
function assertOrderedCleanup(report, run) {
  assert.ok(report, explain(run));
  const kinds = report.cleanup.map((c) => c.kind);
  assert.deepEqual(kinds, ['context', 'context', 'context', 'credential', 'credential', 'credential'], explain(run));
  assert.equal(new Set(report.cleanup.map((c) => c.id)).size, report.cleanup.length, 'a handle was released twice');
  assert.ok(report.cleanup.every((c) => c.status === 'SEC_E_OK' && c.result === 'released'), JSON.stringify(report.cleanup));
  assert.doesNotMatch(run.stderr, /double free|second release/);
}

describe('leak lifecycle', function () {
  it('counts a handle whose holder was garbage-collected as a definite leak, with the app’s stack', async function () {
    const run = await scenario('collected', { nodeArgs: ['--expose-gc'] });
    assert.equal(run.code, 0, explain(run));
    assert.deepEqual(run.results[0].leaked, ['sspi_handles_leaked_total{kind="credential",package="NTLM",reason="collected"} 1']);
    assert.match(run.stderr, /credential #1 \[NTLM, outbound\] .* was garbage-collected while still live/);
    assert.match(run.stderr, /at forget \(.*lifecycle\/scenario\.mjs:\d+:\d+\)/);
    assert.equal(run.report.handles[0].collected, true);
  });

  it('flags a stale context once, not before its limit, and tells a late release apart', async function () {
    const run = await scenario('stale', { args: ['100', '700'], env: { SSPI_AGENT_MAX_AGE_CONTEXT: '400ms' } });
    assert.equal(run.code, 0, explain(run));
    const [early, late, later, released] = run.results;
    assert.deepEqual(early, { phase: 'early', stale: [], leaked: [] }, 'flagged before its limit');
    assert.deepEqual(late.stale, ['sspi_handles_stale{kind="context",reason="age"} 1']);
    assert.deepEqual(late.leaked, ['sspi_handles_leaked_total{kind="context",package="NTLM",reason="age"} 1']);
    assert.deepEqual(later.leaked, late.leaked, 'counted once per handle');
    assert.deepEqual(released.stale, [], 'a released handle leaves the stale gauge');
    assert.match(run.stderr, /context #2 .* was released after \d+\.\ds: a slow but correct caller/);
  });

  it('flags a handshake left unfinished as abandoned', async function () {
    const run = await scenario('stale', { args: ['100', '700'], env: { SSPI_AGENT_MAX_HANDSHAKE: '400ms' } });
    assert.equal(run.code, 0, explain(run));
    const [early, late] = run.results;
    assert.deepEqual(early.stale, []);
    assert.deepEqual(late.stale, ['sspi_handles_stale{kind="context",reason="abandoned"} 1']);
    assert.deepEqual(late.leaked, ['sspi_handles_leaked_total{kind="context",package="NTLM",reason="abandoned"} 1']);
    assert.match(run.stderr, /has a handshake left unfinished/);
  });

  it("shows a rejected login's handshake history in the report", async function () {
    const run = await scenario('rejected');
    assert.equal(run.code, 0, explain(run));
    const [context] = run.report.handles.filter((h) => h.kind === 'context');
    const expected = [
      /^AcceptSecurityContext SEC_I_CONTINUE_NEEDED \+0ms$/,
      /^SetContextAttributesA SEC_E_OK \+\d+ms$/,
      /^AcceptSecurityContext SEC_I_COMPLETE_NEEDED \+\d+ms$/,
      /^CompleteAuthToken SEC_E_MESSAGE_ALTERED \+\d+ms$/,
    ];
    assert.equal(context.history.length, expected.length, context.history.join(', '));
    expected.forEach((re, i) => assert.match(context.history[i], re));
    assert.match(run.stderr, /history of #\d+: AcceptSecurityContext SEC_I_CONTINUE_NEEDED .* CompleteAuthToken SEC_E_MESSAGE_ALTERED \+\d+ms, never deleted/);
  });

  it('with sampled stacks, gives every leaking site a stack while capturing fewer than it allocates', async function () {
    const run = await scenario('sampled', { args: ['150'], env: { SSPI_AGENT_STACKS: 'sampled' } });
    assert.equal(run.code, 0, explain(run));
    const withStack = run.report.handles.filter((h) => h.site !== '(no stack)');
    assert.ok(withStack.length < run.report.total / 4, `${withStack.length} stacks for ${run.report.total} handles`);
    const sites = new Set(run.report.groups.flatMap((g) => g.stack).map((f) => f.match(/at (site[ABC]) /)?.[1]).filter(Boolean));
    assert.deepEqual([...sites].sort(), ['siteA', 'siteB', 'siteC']);
  });

  it('stops a double free and a use after release, returns SEC_E_INVALID_HANDLE, and prints both stacks', async function () {
    const run = await scenario('double');
    assert.equal(run.code, 0, explain(run));
    const r = run.results[0];
    assert.equal(r.first, 0);
    assert.equal(r.second, SEC_E_INVALID_HANDLE);
    assert.equal(r.useAfter, SEC_E_INVALID_HANDLE);
    assert.equal(r.freedAgain, SEC_E_INVALID_HANDLE);
    assert.deepEqual(r.invalid.sort(), [
      'sspi_invalid_releases_total{kind="context",reason="double"} 1',
      'sspi_invalid_releases_total{kind="credential",reason="double"} 1',
      'sspi_invalid_releases_total{kind="credential",reason="use_after_release"} 1',
    ]);
    assert.match(run.stderr, /second release of context #\d+ .* This call:\n\s+at Object\.deleteContext .*\n\s+at Object\.double \(.*scenario\.mjs:\d+:\d+\)[\s\S]*first released at:\n\s+at Object\.deleteContext .*\n\s+at Object\.double \(.*scenario\.mjs:\d+/);
  });

  it('lets the app delete a context a failed first AcceptSecurityContext wrote, even at a value it saw deleted, in every out-param shape', async function () {
    const run = await scenario('failedAccept');
    assert.equal(run.code, 0, explain(run));
    const { runs, invalid } = run.results[0];
    assert.ok(runs.every((r) => r.status < 0 && r.deleteStatus !== null), JSON.stringify(runs));
    // The point of the test: WinPR handed out a value just deleted. (Without the fix the guard
    // answered SEC_E_INVALID_HANDLE for every one of those, and WinPR kept the context.)
    for (const shape of ['zeroed', 'empty', 'array', 'outReused']) {
      const of = runs.filter((r) => r.shape === shape);
      assert.ok(of.some((r) => r.reused), `${shape}: WinPR never reused a deleted value in ${of.length} tries: ${JSON.stringify(of)}`);
    }
    // `_Out_` and the struct of the context just deleted, given that very value back: only the
    // declaration tells a write from no write.
    assert.ok(runs.some((r) => r.shape === 'outReused' && r.same), JSON.stringify(runs.filter((r) => r.shape === 'outReused')));
    assert.deepEqual(runs.map((r) => r.deleteStatus), runs.map(() => 0), JSON.stringify(runs));
    assert.doesNotMatch(run.stderr, /second release|stopped before it reached the provider/);
    assert.ok(invalid.every((l) => !l.includes('reason="double"')), invalid.join('\n'));
  });

  it('without the guard, WinPR kills the process on the same double free', async function () {
    const run = await scenario('double', { env: { SSPI_AGENT_GUARD: '0' } });
    // glibc notices the double free and aborts, or the freed context is used and the process faults.
    assert.ok(['SIGABRT', 'SIGSEGV'].includes(run.signal), `expected a native crash, got ${explain(run)}`);
    assert.deepEqual(run.results, [], 'the app never got past the second DeleteSecurityContext');
  });

  it('counts a credential freed while its context is live as an out-of-order release', async function () {
    const run = await scenario('outOfOrder');
    assert.equal(run.code, 0, explain(run));
    assert.deepEqual(run.results[0].outOfOrder, ['sspi_out_of_order_releases_total{kind="credential"} 1']);
    assert.match(run.stderr, /freed while 1 context\(s\) made from it are live[\s\S]*at Object\.outOfOrder/);
  });

  it('counts an unload with live handles, and cleans them up first when cleanup is on', async function () {
    const off = await scenario('unload');
    assert.equal(off.code, 0, explain(off));
    assert.deepEqual(off.results[0].unloads, ['sspi_unload_with_live_handles_total 1']);
    assert.equal(off.results[0].live, 2);
    assert.match(off.stderr, /libwinpr2\.so\.2 unloaded while 2 handle\(s\) it made are live/);

    const on = await scenario('unload', { env: { SSPI_AGENT_CLEANUP: 'exit' } });
    assert.equal(on.code, 0, explain(on));
    assert.deepEqual(on.results[0].forced.sort(), [
      'sspi_forced_releases_total{kind="context",result="released"} 1',
      'sspi_forced_releases_total{kind="credential",result="released"} 1',
    ]);
    assert.equal(on.results[0].live, 0);
    assert.equal(on.report.total, 0);
  });

  it('tracks buffers from QuerySecurityPackageInfoW and EnumerateSecurityPackagesW until FreeContextBuffer', async function () {
    const run = await scenario('buffers');
    assert.equal(run.code, 0, explain(run));
    const r = run.results[0];
    assert.equal(r.name, 'NTLM');
    assert.equal(r.afterReturned, 0, 'packageInfo returns its buffer');
    assert.equal(r.afterEnumerate, 1);
    assert.equal(r.live, 1, 'the Negotiate info buffer is never returned');
    assert.deepEqual(run.report.byKind, { credential: 0, context: 0, buffer: 1 });
    assert.equal(run.report.handles[0].createdBy, 'QuerySecurityPackageInfoW');
    assert.equal(run.report.handles[0].package, 'Negotiate');
  });

  describe('fail on leak', function () {
    it('exits 1 when leaks remain, or with the configured code', async function () {
      assert.equal((await scenario('leakThenEnd', { env: { SSPI_AGENT_FAIL_ON_LEAK: '1' } })).code, 1);
      assert.equal((await scenario('leakThenEnd', { env: { SSPI_AGENT_FAIL_ON_LEAK: '1', SSPI_AGENT_FAIL_ON_LEAK_EXIT_CODE: '42' } })).code, 42);
      assert.equal((await scenario('leakThenEnd')).code, 0, 'off by default');
    });

    it("keeps the app's own non-zero exit code", async function () {
      assert.equal((await scenario('leakThenEnd', { args: ['exit3'], env: { SSPI_AGENT_FAIL_ON_LEAK: '1' } })).code, 3);
    });

    it('lists suppressed leaks as suppressed and does not fail for them', async function () {
      const dir = mkdtempSync(join(tmpdir(), 'sspi-agent-supp-'));
      const file = join(dir, 'suppressions.txt');
      try {
        writeFileSync(file, '# known leaks of the scenario app\nleak:*lifecycle/scenario.mjs*\n');
        const run = await scenario('leakThenEnd', { env: { SSPI_AGENT_FAIL_ON_LEAK: '1', SSPI_AGENT_SUPPRESSIONS: file } });
        assert.equal(run.code, 0, explain(run));
        assert.equal(run.report.suppressed, run.report.total);
        assert.equal(run.report.unsuppressed, 0);
        assert.ok(run.report.groups.every((g) => g.suppressedBy === '*lifecycle/scenario.mjs*'));
        assert.match(run.stderr, /Suppressed leak of/);

        writeFileSync(file, 'startHandshake\n');
        const partial = await scenario('leakThenEnd', { env: { SSPI_AGENT_FAIL_ON_LEAK: '1', SSPI_AGENT_SUPPRESSIONS: file } });
        assert.equal(partial.code, 1, 'leaks not matched still fail');
        assert.equal(partial.report.suppressed, 2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('forced ordered cleanup', function () {
    const env = { SSPI_AGENT_CLEANUP: 'all' };

    it('at a normal end', async function () {
      const run = await scenario('leakThenEnd', { env });
      assert.equal(run.code, 0, explain(run));
      assertOrderedCleanup(run.report, run);
    });

    it('at process.exit(3), keeping the exit code', async function () {
      const run = await scenario('leakThenEnd', { args: ['exit3'], env });
      assert.equal(run.code, 3, explain(run));
      assertOrderedCleanup(run.report, run);
    });

    it('at an uncaught exception, keeping its exit code and message', async function () {
      const run = await scenario('leakThenEnd', { args: ['throw'], env });
      assert.equal(run.code, 1, explain(run));
      assert.match(run.stderr, /Error: app crashed/);
      assertOrderedCleanup(run.report, run);
    });

    it('at SIGTERM with no app handler, still ending by SIGTERM', async function () {
      const run = await signalled('wait', 'SIGTERM', env);
      assert.equal(run.signal, 'SIGTERM', explain(run));
      assertOrderedCleanup(run.report, run);
    });

    it("at SIGTERM with the app's own handler, which runs and decides the exit", async function () {
      const run = await signalled('handler', 'SIGTERM', env);
      assert.equal(run.code, 0, explain(run));
      assert.match(run.stdout, /"appHandler":"SIGTERM"/);
      assertOrderedCleanup(run.report, run);
    });

    it('not at all when off, but the exit report still comes on SIGTERM', async function () {
      const run = await signalled('wait', 'SIGTERM');
      assert.equal(run.signal, 'SIGTERM');
      assert.deepEqual(run.report.cleanup, []);
      assert.equal(run.report.total, 6);
    });

    it('on demand through the API', async function () {
      const run = await scenario('leakThenEnd', { args: ['api'] });
      assert.equal(run.code, 0, explain(run));
      const cleaned = run.results.find((r) => r.cleaned).cleaned;
      assert.deepEqual(cleaned.map((c) => c.kind), ['context', 'context', 'context', 'credential', 'credential', 'credential']);
      assert.equal(run.report.total, 0, 'nothing left at exit');
    });
  });
});
