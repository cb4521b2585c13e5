// Faults inside the agent must never reach the app: injected through what an app can reach (a
// throwing listener and exporter, stack capture or formatting that throws), an OTLP collector that is
// down or hangs (each failed export of the agent's own SDK counted under where="otel.export"), and
// SSPI_AGENT_* variables full of garbage. The app's calls go on with correct results; each failure is
// counted in sspi_agent_errors_total{where} and logged once; 50,000 calls failing inside the agent do
// not grow its memory.
import assert from 'node:assert/strict';
import net from 'node:net';
import { SETTINGS } from '../../dist/config.js';
import { freePort } from '../../examples/lib/free-port.mjs';
import { metricValue, parseMetrics } from '../helpers/prom-text.mjs';
import { explain, runApp } from '../helpers/run-app.mjs';

const CALLS = 50_000;
/** Heap growth allowed between 15,000 and 50,000 failing acquire/free pairs (after a full GC). */
const HEAP_SLACK = 4 * 2 ** 20;

async function faults(mode, env = {}) {
  const run = await runApp('robustness/agent-faults.mjs', {
    args: [mode, String(CALLS)],
    nodeArgs: ['--expose-gc'],
    env: { SSPI_AGENT_METRICS_PORT: String(await freePort()), SSPI_AGENT_STACKS: 'all', ...env },
  });
  assert.equal(run.code, 0, explain(run));
  const [r] = run.results;
  assert.ok(r, explain(run));
  return { run, r, samples: parseMetrics(r.metrics) };
}

/** The app saw nothing: every call right, the handshakes as without the agent, the guard still on. */
function checkAppUnaffected({ r, samples }) {
  assert.equal(r.wrong, 0, 'every acquire/free pair succeeded');
  assert.deepEqual(r.handshake, { good: [0, 0], bad: 0x8009030f | 0 });
  assert.ok(r.doubleFreeStopped, 'the double free was still stopped');
  // The agent's own books are still right: every acquire seen.
  assert.equal(metricValue(samples, 'sspi_handles_opened_total', { kind: 'credential' }), CALLS + 6);
}

function checkBounded({ r }) {
  assert.ok(r.heapLate - r.heapEarly < HEAP_SLACK, `heap grew by ${((r.heapLate - r.heapEarly) / 2 ** 20).toFixed(1)} MB between ${CALLS * 0.3} and ${CALLS} calls`);
}

/** Each `where` is logged exactly once, however often it failed. */
function checkLoggedOnce(stderr, wheres) {
  for (const where of wheres) {
    const lines = stderr.split('\n').filter((l) => l.includes(`internal error in ${where} `));
    assert.equal(lines.length, 1, `${where} logged ${lines.length} times`);
  }
}

describe('robustness: faults inside the agent', function () {
  this.timeout(120_000);

  it('a listener and an exporter that throw on every event: calls unaffected, counted by where, logged once, memory bounded', async function () {
    const f = await faults('listener');
    checkAppUnaffected(f);
    checkBounded(f);
    const { r, samples, run } = f;
    // Each pair: open, close and two calls; the failing listener sees every one of them.
    assert.ok(metricValue(samples, 'sspi_agent_errors_total', { where: 'listener.onOpen' }) >= CALLS);
    assert.ok(metricValue(samples, 'sspi_agent_errors_total', { where: 'listener.onClose' }) >= CALLS);
    assert.ok(metricValue(samples, 'sspi_agent_errors_total', { where: 'listener.onCall' }) >= 2 * CALLS);
    // A scrape while the exporter throws answers 500 and counts; once it is gone, 200 again.
    assert.deepEqual(r.scrapes, [500, 500, 200]);
    assert.equal(metricValue(samples, 'sspi_agent_errors_total', { where: 'metrics-endpoint' }), 2);
    checkLoggedOnce(run.stderr, ['listener.onOpen', 'listener.onClose', 'listener.onCall', 'listener.onInvalidRelease', 'metrics-endpoint']);
  });

  it('stack capture that throws (Error.captureStackTrace replaced): calls still tracked, the guard still stops a double free', async function () {
    const f = await faults('stacks');
    checkAppUnaffected(f);
    checkBounded(f);
    // Two stacks per pair (acquire, free) and more for the handshakes: each failed, each counted.
    assert.ok(metricValue(f.samples, 'sspi_agent_errors_total', { where: 'stacks' }) >= 2 * CALLS);
    assert.equal(metricValue(f.samples, 'sspi_agent_errors_total', { where: 'hook.before' }), 0, 'a failed stack does not cost the call');
    checkLoggedOnce(f.run.stderr, ['stacks']);
  });

  it("stack formatting that throws (the app's Error.prepareStackTrace): warnings and the exit report still come", async function () {
    const f = await faults('format');
    checkAppUnaffected(f);
    checkBounded(f);
    assert.ok(metricValue(f.samples, 'sspi_agent_errors_total', { where: 'stacks.format' }) >= 1);
    assert.match(f.run.stderr, /second release of credential/);
    assert.match(f.run.stderr, /1 SSPI handle still live at exit/);
    checkLoggedOnce(f.run.stderr, ['stacks.format']);
  });

  it('the baseline without faults: no agent error, memory bounded', async function () {
    const f = await faults('baseline');
    checkAppUnaffected(f);
    checkBounded(f);
    assert.equal(metricValue(f.samples, 'sspi_agent_errors_total'), 0);
    assert.deepEqual(f.r.scrapes, [200, 200, 200]);
  });

  describe('an OTLP collector that is down or hangs', function () {
    let hanging;
    const sockets = [];
    before(async () => {
      // Accepts connections and never answers.
      hanging = net.createServer((s) => sockets.push(s.on('error', () => {})));
      await new Promise((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    });
    after(() => {
      for (const s of sockets) s.destroy();
      hanging.close();
    });

    /** The OTLP fixture app against `endpoint`: it waits until a failed export was counted, then ends normally. */
    async function againstCollector(endpoint, env = {}) {
      const run = await runApp('otel/otlp-app.mjs', {
        args: ['export-failure'],
        env: {
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_LOGS_EXPORTER: 'none',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          // Export soon and give up soon: a span batch after 50 ms, metrics every 200 ms, each
          // request abandoned after 300 ms (a hanging collector), no retry past that.
          OTEL_BSP_SCHEDULE_DELAY: '50',
          OTEL_METRIC_EXPORT_INTERVAL: '200',
          OTEL_EXPORTER_OTLP_TIMEOUT: '300',
          SSPI_AGENT_OTEL_FLUSH_TIMEOUT: '300ms',
          ...env,
        },
      });
      assert.equal(run.code, 0, explain(run));
      const [r] = run.results;
      assert.equal(r?.done, true, explain(run));
      // The app's logins came out as without the agent: one accepted, one rejected (wrong password).
      assert.deepEqual(r.logins, { good: [0, 0], bad: 0x8009030f | 0 }, explain(run));
      return { run, r };
    }

    for (const kind of ['down', 'hanging']) {
      it(`${kind}: failed exports counted under where="otel.export" and logged once; the app's handshakes are right and the process still ends, with its exit code`, async function () {
        const endpoint = kind === 'down' ? `http://127.0.0.1:${await freePort()}` : `http://127.0.0.1:${hanging.address().port}`;
        const { run, r } = await againstCollector(endpoint);
        assert.ok(r.exportFailures >= 1, `no failed export counted in sspi_agent_errors_total{where="otel.export"}\n${explain(run)}`);
        checkLoggedOnce(run.stderr, ['otel.export']);
        // The leaks the app left are still reported, in the JSON report and on stderr.
        assert.equal(run.report.total, 2, explain(run));
        assert.match(run.stderr, /2 SSPI handles still live at exit/);
        const otelLines = run.stderr.split('\n').filter((l) => /OpenTelemetry/.test(l));
        assert.ok(otelLines.length <= 1, `said once at most:\n${otelLines.join('\n')}`);
      });
    }

    // Each signal's exporter counts on its own: spans alone, then metrics alone, to a collector that is down.
    for (const [signal, env] of [
      ['spans', { OTEL_METRICS_EXPORTER: 'none' }],
      ['metrics', { OTEL_TRACES_EXPORTER: 'none' }],
    ]) {
      it(`down, ${signal} only: the failed ${signal} exports are counted`, async function () {
        const { run, r } = await againstCollector(`http://127.0.0.1:${await freePort()}`, env);
        assert.ok(r.exportFailures >= 1, `no failed ${signal} export counted\n${explain(run)}`);
        checkLoggedOnce(run.stderr, ['otel.export']);
      });
    }
  });

  it('every SSPI_AGENT_* variable set to garbage: each named once, defaults used, handshakes right', async function () {
    const env = { SSPI_AGENT_NO_SUCH_SETTING: '1' };
    for (const setting of Object.values(SETTINGS)) env[`SSPI_AGENT_${setting.name}`] = 'gärbage?{}"\n \u2603';
    env.SSPI_AGENT_ENABLED = 'maybe';
    env.SSPI_AGENT_REPORT_FILE = '/nonexistent-dir/sub/report.json';
    env.SSPI_AGENT_SUPPRESSIONS = '/nonexistent-dir/suppressions.txt';
    env.SSPI_AGENT_METRICS_HOST = 'no-such-host.invalid';
    env.SSPI_AGENT_LIBRARIES = 'relative/path.so,,;';
    // Not garbage for the OTel side: the run must not wait for an SDK.
    env.SSPI_AGENT_OTEL = 'gärbage';
    const run = await runApp('handshakes-esm.mjs', { args: ['50'], env });
    assert.equal(run.code, 0, explain(run));
    const [result] = run.results;
    assert.equal(result.succeeded, 50, explain(run));
    const samples = parseMetrics(result.metrics);
    assert.equal(metricValue(samples, 'sspi_handles_opened_total', { kind: 'context' }), 100, 'the agent works on its defaults');
    for (const setting of Object.values(SETTINGS)) {
      const name = `SSPI_AGENT_${setting.name}`;
      if (['SSPI_AGENT_METRICS_HOST', 'SSPI_AGENT_METRICS_TOKEN', 'SSPI_AGENT_REPORT_FILE', 'SSPI_AGENT_SUPPRESSIONS', 'SSPI_AGENT_LIBRARIES'].includes(name)) continue;
      const lines = run.stderr.split('\n').filter((l) => l.includes(`${name}=`) && l.includes('is not valid'));
      assert.equal(lines.length, 1, `${name} warned ${lines.length} times\n${run.stderr}`);
    }
    assert.equal(run.stderr.split('\n').filter((l) => l.includes('unknown variable SSPI_AGENT_NO_SUCH_SETTING')).length, 1);
    assert.equal(run.stderr.split('\n').filter((l) => l.includes('metrics endpoint not started')).length, 1);
  });
});
