// The registry applies calls in batches; these apps end or export before a batch would be applied
// by the event loop (unit-level cases: test/unit/deferred-calls.test.mjs).
import assert from 'node:assert/strict';
import { explain, runApp } from '../helpers/run-app.mjs';

describe('calls applied in batches, at the edges of a process', function () {
  it('hears the calls an app makes in its own exit handler, after the agent’s process-end work', async function () {
    const run = await runApp('deferred/exit-handler.mjs', { env: { SSPI_AGENT_REPORT: '0' } });
    assert.equal(run.code, 0, explain(run));
    assert.match(run.stderr, /credential #1 \[NTLM, outbound\] from AcquireCredentialsHandleW freed while 1 context\(s\) made from it are live/, explain(run));
  });

  it('takes an exception the app’s capture callback handles for no process end: no report, no cleanup, batches go on', async function () {
    const run = await runApp('deferred/captured-exception.mjs', { env: { SSPI_AGENT_CLEANUP: 'exit' } });
    assert.equal(run.code, 0, explain(run));
    const [captured, after] = run.results;
    assert.deepEqual(captured, { captured: 'boom' });
    assert.equal(after.status, 0, 'the app’s own free of its live credential reached the provider');
    assert.equal(after.heardAtOnce, 0, 'its calls wait to be applied in a batch');
    assert.equal(after.heardNextTurn, 3);
    assert.doesNotMatch(run.stderr, /leak|stopped before it reached the provider/i, explain(run));
  });

  it('takes a beforeExit after which the app starts more work for no process end', async function () {
    const run = await runApp('deferred/before-exit-more-work.mjs', { env: { SSPI_AGENT_CLEANUP: 'exit' } });
    assert.equal(run.code, 0, explain(run));
    assert.deepEqual(run.results, [{ round: 2, status: 0 }], explain(run));
    assert.doesNotMatch(run.stderr, /leak|stopped before it reached the provider/i, explain(run));
  });

  it('counts calls in an OpenTelemetry export the app forces in the same turn as its first calls', async function () {
    const run = await runApp('deferred/meter-only.mjs');
    assert.equal(run.code, 0, explain(run));
    const [sums] = run.results;
    assert.equal(sums['sspi.handle.opened'], 3, explain(run));
    assert.equal(sums['sspi.handle.closed'], 3);
    assert.equal(sums['sspi.call.duration'], 6, 'three acquires and three frees');
  });
});
