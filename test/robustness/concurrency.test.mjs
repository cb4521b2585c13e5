// Concurrency: thousands of NTLM handshakes through koffi's `.async` variants (worker threads),
// interleaved with sync acquire/free pairs and sync handshakes. The agent's registry is only ever
// touched from the main thread (koffi runs `.async` callbacks there), and its books must balance.
import assert from 'node:assert/strict';
import { metricValue, parseMetrics } from '../helpers/prom-text.mjs';
import { explain, runApp } from '../helpers/run-app.mjs';

const ASYNC_HANDSHAKES = 2000;
const SYNC_PAIRS = 5000;
const SYNC_HANDSHAKES = 300;
const IN_FLIGHT = 32;

describe('robustness: concurrency under .async', function () {
  this.timeout(120_000);

  it(`${ASYNC_HANDSHAKES} async handshakes, ${SYNC_PAIRS} sync acquire/free pairs and ${SYNC_HANDSHAKES} sync handshakes: opened − closed = live, and the snapshot is what the app holds`, async function () {
    const run = await runApp('robustness/concurrency.mjs', { args: [ASYNC_HANDSHAKES, SYNC_PAIRS, SYNC_HANDSHAKES, IN_FLIGHT].map(String) });
    const [done, view, after, end] = run.results;
    assert.ok(end?.end, `the run did not finish\n${explain(run)}`);
    assert.deepEqual(done, { asyncDone: ASYNC_HANDSHAKES, syncPairsDone: SYNC_PAIRS, syncHandshakesDone: SYNC_HANDSHAKES });

    // What the app holds (kind, direction, creating function) is exactly what the agent lists live.
    assert.ok(view.heldTotal > 500, `the app keeps some handles on purpose (${view.heldTotal})`);
    assert.deepEqual(view.snapshot, view.held);
    assert.equal(view.snapshotTotal, view.heldTotal);

    const samples = parseMetrics(view.metrics);
    for (const kind of ['credential', 'context']) {
      const opened = metricValue(samples, 'sspi_handles_opened_total', { kind });
      const closed = metricValue(samples, 'sspi_handles_closed_total', { kind });
      const live = metricValue(samples, 'sspi_handles_live', { kind });
      const held = Object.entries(view.held).filter(([k]) => k.startsWith(kind + ' ')).reduce((n, [, v]) => n + v, 0);
      assert.equal(opened - closed, live, `${kind}: opened ${opened} − closed ${closed} ≠ live ${live}`);
      assert.equal(live, held, `${kind}: live ${live}, the app holds ${held}`);
    }
    // Every handshake made 2 credentials and 2 contexts; every sync pair one credential.
    const handshakes = ASYNC_HANDSHAKES + SYNC_HANDSHAKES;
    assert.equal(metricValue(samples, 'sspi_handles_opened_total', { kind: 'context' }), 2 * handshakes);
    assert.equal(metricValue(samples, 'sspi_handles_opened_total', { kind: 'credential' }), 2 * handshakes + SYNC_PAIRS);
    assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'CompleteAuthToken', status: 'SEC_E_OK' }), handshakes);
    assert.equal(metricValue(samples, 'sspi_invalid_releases_total'), 0, 'no release went astray');
    assert.equal(metricValue(samples, 'sspi_out_of_order_releases_total'), 0);
    assert.equal(metricValue(samples, 'sspi_agent_errors_total'), 0);

    // Once the app releases what it held, nothing is live.
    assert.equal(after.after, 0);
    const end2 = parseMetrics(after.metrics);
    for (const kind of ['credential', 'context']) assert.equal(metricValue(end2, 'sspi_handles_live', { kind }), 0);
  });
});
