// SSPI in worker threads, tracked like SSPI on the main thread: one endpoint for the process, the
// worker's own leaks and stacks in the exit report, its end (natural or terminated) closing its books.
import assert from 'node:assert/strict';
import { freePort } from '../../examples/lib/free-port.mjs';
import { SEC_E_INVALID_HANDLE } from '../../examples/lib/sspi-binding.mjs';
import { runApp, explain } from '../helpers/run-app.mjs';
import { parseMetrics, metricValue } from '../helpers/prom-text.mjs';

async function pool(scenario, env = {}) {
  const run = await runApp('workers/pool.mjs', { args: [scenario], env: { SSPI_AGENT_METRICS_PORT: String(await freePort()), ...env } });
  assert.equal(run.code, 0, explain(run));
  return run;
}

const credentials = (lines, name, labels = {}) => metricValue(parseMetrics(lines.join('\n')), name, { kind: 'credential', ...labels });

/** The worker's leaked credential, as the report lists it: made in the worker, with the worker's stack. */
function assertWorkerLeak(run) {
  const [group] = run.report.groups;
  assert.equal(run.report.total, 1, explain(run));
  assert.equal(typeof group.thread, 'number', 'the group names the worker thread');
  assert.ok(group.stack.some((frame) => frame.includes('test/fixtures/workers/sspi-worker.mjs')), group.stack.join('\n'));
  assert.match(run.stderr, /Leak of 1 credential \[NTLM, outbound\] created by AcquireCredentialsHandleW in worker thread \d+/);
  assert.match(run.stderr, /at Object\.\w+ \(.*sspi-worker\.mjs:\d+:\d+\)/);
}

describe('SSPI in worker threads', function () {
  it("counts every thread's handles in the one /metrics endpoint, and keeps a worker's counts after it ends", async function () {
    const run = await pool('metrics');
    const [held, freed] = run.results;
    assert.equal(credentials(held.metrics, 'sspi_handles_live'), 5, 'one in the main thread, two in each worker');
    assert.equal(credentials(held.metrics, 'sspi_handles_opened_total'), 5);
    assert.equal(credentials(freed.metrics, 'sspi_handles_live'), 1, 'the workers freed theirs');
    assert.equal(credentials(freed.metrics, 'sspi_handles_opened_total'), 5, 'counters never go back when a worker ends');
    assert.equal(run.report.total, 0, explain(run));
  });

  it("reports a worker that ends with a live handle, with the worker's own stack, in the exit report and the report file", async function () {
    const run = await pool('leakAndEnd');
    assertWorkerLeak(run);
    const [result] = run.results;
    assert.equal(credentials(result.metrics, 'sspi_handles_leaked_total', { reason: 'exit' }), 1);
    assert.equal(credentials(result.metrics, 'sspi_handles_live'), 1, 'a handle a worker never freed stays allocated in the process');
  });

  it("keeps the oldest age of the handles an ended worker left live, growing as they age", async function () {
    const run = await pool('leakAndEnd');
    const [atEnd, later] = run.results.map((r) => credentials(r.metrics, 'sspi_handle_oldest_age_seconds'));
    assert.equal(credentials(run.results[1].metrics, 'sspi_handles_live'), 1, explain(run));
    assert.ok(atEnd > 0, `the live count shows the handle, so its age is there too: ${run.results[0].metrics.join('\n')}`);
    assert.ok(later - atEnd >= 0.25, `it ages between scrapes 300 ms apart: ${atEnd} s, then ${later} s`);
  });

  it('has no oldest age for an ended worker whose handles the forced cleanup released', async function () {
    const run = await pool('leakAndEnd', { SSPI_AGENT_CLEANUP: 'exit' });
    assert.equal(credentials(run.results[1].metrics, 'sspi_handles_live'), 0, explain(run));
    assert.equal(credentials(run.results[1].metrics, 'sspi_handle_oldest_age_seconds'), 0, explain(run));
  });

  it('releases the handles of a worker that ends by itself with the forced cleanup on', async function () {
    const run = await pool('leakAndEnd', { SSPI_AGENT_CLEANUP: 'exit' });
    assertWorkerLeak(run);
    assert.deepEqual(run.report.cleanup.map(({ result, thread }) => ({ result, thread: typeof thread })), [{ result: 'released', thread: 'number' }]);
    assert.equal(credentials(run.results[0].metrics, 'sspi_handles_live'), 0);
  });

  it('lists the leak of a worker whose end ends the process', async function () {
    const run = await runApp('workers/end-with-worker.mjs');
    assert.equal(run.code, 0, explain(run));
    assertWorkerLeak(run);
  });

  it('reports a worker the app terminates with a live handle', async function () {
    const run = await pool('terminate');
    assertWorkerLeak(run);
    assert.equal(run.results[0].exitCode, 1, "terminate() resolves with the worker's exit code as without the agent");
    assert.deepEqual(run.report.cleanup, []);
  });

  it('releases a terminated worker’s handles with the forced cleanup on, before the worker goes', async function () {
    const run = await pool('terminate', { SSPI_AGENT_CLEANUP: 'exit' });
    assertWorkerLeak(run);
    assert.deepEqual(
      run.report.cleanup.map(({ kind, function: fn, status, result, thread }) => ({ kind, fn, status, result, thread: typeof thread })),
      [{ kind: 'credential', fn: 'FreeCredentialsHandle', status: 'SEC_E_OK', result: 'released', thread: 'number' }],
    );
    const [result] = run.results;
    assert.equal(credentials(result.metrics, 'sspi_handles_live'), 0);
    assert.equal(credentials(result.metrics, 'sspi_forced_releases_total', { result: 'released' }), 1);
  });

  it('terminates a worker stuck in synchronous code after a bounded wait, and says it could not report', async function () {
    const run = await pool('stuck');
    const [result] = run.results;
    assert.equal(result.exitCode, 1);
    assert.ok(result.waitedMs >= 400 && result.waitedMs < 5000, `terminate() waited ${result.waitedMs} ms`);
    assert.match(run.stderr, /worker thread \d+ ended without reporting its SSPI handles/);
    assert.equal(run.report.total, 0, 'nothing the worker could not say is made up');
  });

  it('terminates a busy worker that holds no SSPI handle at once, and says nothing', async function () {
    const run = await pool('busyWithoutHandles');
    const [result] = run.results;
    assert.equal(result.exitCode, 1);
    // The agent waits up to 500 ms for a worker that holds handles: this one was not waited for.
    assert.ok(result.waitedMs < 450, `terminate() waited ${result.waitedMs} ms`);
    assert.equal(run.stderr, '');
  });

  it('lists the handles of a worker still running when the process exits', async function () {
    const run = await runApp('workers/pool.mjs', { args: ['exitWhileRunning'], env: { SSPI_AGENT_FAIL_ON_LEAK: '1' } });
    assert.equal(run.code, 1, `fail-on-leak counts the worker's leak\n${explain(run)}`);
    assertWorkerLeak(run);
  });

  it("reports a worker's own worker that its parent terminates with a live handle", async function () {
    const run = await pool('grandchild');
    assertWorkerLeak(run);
    assert.doesNotMatch(run.stderr, /ended without reporting/, 'its books were closed before the terminate');
    const [result] = run.results;
    assert.equal(result.childExitCode, 1, "terminate() resolves with the child's exit code as without the agent");
    assert.equal(credentials(result.metrics, 'sspi_handles_opened_total'), 1, 'its counts came with its report');
    assert.equal(credentials(result.metrics, 'sspi_handles_live'), 1);
  });

  it("releases the handles of a worker's own terminated worker with the forced cleanup on", async function () {
    const run = await pool('grandchild', { SSPI_AGENT_CLEANUP: 'exit' });
    assertWorkerLeak(run);
    assert.deepEqual(run.report.cleanup.map(({ result, thread }) => ({ result, thread: typeof thread })), [{ result: 'released', thread: 'number' }]);
    assert.equal(credentials(run.results[0].metrics, 'sspi_handles_live'), 0);
  });

  it('stops a double free in a worker before WinPR aborts the process', async function () {
    const run = await pool('doubleFree');
    const [result] = run.results;
    assert.deepEqual(result.statuses, [0, SEC_E_INVALID_HANDLE]);
    assert.equal(credentials(result.metrics, 'sspi_invalid_releases_total', { reason: 'double' }), 1);
    assert.match(run.stderr, /second release of credential #1 .* stopped before it reached the provider/);
  });
});
