// The /metrics endpoint as a scraper sees it, and how it behaves when it cannot serve.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { runApp, explain, REPO, FIXTURES } from '../helpers/run-app.mjs';
import { parseMetrics, metricValue, hasSeries } from '../helpers/prom-text.mjs';
import { freePort } from '../../examples/lib/free-port.mjs';


/** Starts the holding fixture under the agent and resolves once it says it is ready. */
async function startHolder(port) {
  const child = spawn(process.execPath, ['--import', 'sspi-agent', `${FIXTURES}/hold-handles.mjs`, '--stay'], {
    cwd: REPO,
    env: { ...process.env, WLOG_LEVEL: 'OFF', SSPI_AGENT_METRICS_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  while (!out.includes('"ready"')) {
    const [exited] = await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then(() => [true])]);
    if (exited === true) throw new Error(`holder exited early: ${out}`);
  }
  return child;
}

async function scrape(url, init) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (attempt > 50) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('metrics endpoint', function () {
  it('serves the sspi_* series over HTTP on 127.0.0.1', async function () {
    const port = await freePort();
    const child = await startHolder(port);
    try {
      const res = await scrape(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
      const samples = parseMetrics(await res.text());
      assert.equal(metricValue(samples, 'sspi_handles_live', { kind: 'credential', package: 'NTLM', direction: 'outbound' }), 2);
      assert.equal(metricValue(samples, 'sspi_handles_live', { kind: 'credential', package: 'Negotiate', direction: 'inbound' }), 1);
      assert.equal(metricValue(samples, 'sspi_handles_live', { kind: 'context' }), 0);
      assert.equal(metricValue(samples, 'sspi_handles_opened_total', { kind: 'credential' }), 4);
      assert.equal(metricValue(samples, 'sspi_handles_closed_total', { kind: 'credential', package: 'NTLM' }), 1);
      assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'AcquireCredentialsHandleW', status: 'SEC_E_OK' }), 4);
      assert.equal(metricValue(samples, 'sspi_call_duration_seconds_count', { function: 'FreeCredentialsHandle' }), 1);
      assert.equal(metricValue(samples, 'sspi_handle_lifetime_seconds_count', { kind: 'credential' }), 1);
      assert.ok(metricValue(samples, 'sspi_handle_oldest_age_seconds', { kind: 'credential' }) > 0);
      assert.ok(hasSeries(samples, 'sspi_handle_oldest_age_seconds', { kind: 'context' }));

      assert.equal((await scrape(`http://127.0.0.1:${port}/`)).status, 404);
      assert.equal((await scrape(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 405);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('never keeps the process alive', async function () {
    const port = await freePort();
    const run = await runApp('hold-handles.mjs', { env: { SSPI_AGENT_METRICS_PORT: String(port) }, timeoutMs: 10_000 });
    assert.equal(run.signal, null, 'the app had to be killed: the endpoint kept it alive');
    assert.equal(run.code, 0, explain(run));
  });

  it('warns once and lets the app run when the port is taken', async function () {
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const run = await runApp('hold-handles.mjs', { env: { SSPI_AGENT_METRICS_PORT: String(blocker.address().port) } });
      assert.equal(run.code, 0, explain(run));
      assert.deepEqual(run.results[0], { ready: true, held: 3 });
      const warnings = run.stderr.split('\n').filter((l) => l.includes('metrics endpoint not started'));
      assert.equal(warnings.length, 1, explain(run));
      assert.match(warnings[0], new RegExp(`127\\.0\\.0\\.1:${blocker.address().port} is in use; set SSPI_AGENT_METRICS_PORT`));
      assert.equal(run.report.total, 3, 'tracking goes on without the endpoint');
    } finally {
      blocker.close();
    }
  });

  it('loads nothing when SSPI_AGENT_ENABLED=0', async function () {
    const run = await runApp('hold-handles.mjs', { env: { SSPI_AGENT_ENABLED: '0' } });
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.report, undefined);
    assert.equal(run.stderr, '');
  });

  it('warns about a bad setting by name and keeps its default', async function () {
    const run = await runApp('hold-handles.mjs', { env: { SSPI_AGENT_STACKS: 'sometimes', SSPI_AGENT_TYPO: '1' } });
    assert.equal(run.code, 0, explain(run));
    assert.match(run.stderr, /sspi-agent: SSPI_AGENT_STACKS="sometimes" is not valid .* using the default budget/);
    assert.match(run.stderr, /sspi-agent: unknown variable SSPI_AGENT_TYPO is ignored/);
    assert.ok(run.report.handles.every((h) => h.site.includes('hold-handles.mjs')), 'stacks stay on by default');
  });
});

describe('merging into an app registry', function () {
  it("puts the agent's series beside the app's in one prom-client registry", async function () {
    const run = await runApp('merge-registry.mjs');
    assert.equal(run.code, 0, explain(run));
    assert.deepEqual(run.results[0].lines, ['app_requests_total 3', 'sspi_handles_opened_total{kind="credential",package="NTLM"} 1']);
  });
});

describe('metrics endpoint with a token', function () {
  it('answers only requests that bring SSPI_AGENT_METRICS_TOKEN as a bearer token', async function () {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'sspi-agent', `${FIXTURES}/hold-handles.mjs`, '--stay'], {
      cwd: REPO,
      env: { ...process.env, WLOG_LEVEL: 'OFF', SSPI_AGENT_METRICS_PORT: String(port), SSPI_AGENT_METRICS_TOKEN: 's3cret-scrape-token' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await once(child.stdout, 'data');
      const url = `http://127.0.0.1:${port}/metrics`;
      assert.equal((await scrape(url)).status, 401);
      assert.equal((await scrape(url, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      const ok = await scrape(url, { headers: { authorization: 'Bearer s3cret-scrape-token' } });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /^sspi_handles_live\{/m);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('metrics endpoint under slow and oversized requests', function () {
  it('keeps serving, answers an oversized request with an error, and never keeps the app alive', async function () {
    const { connect } = await import('node:net');
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'sspi-agent', `${FIXTURES}/hold-handles.mjs`, '--linger'], {
      cwd: REPO,
      env: { ...process.env, WLOG_LEVEL: 'OFF', SSPI_AGENT_METRICS_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await once(child.stdout, 'data');
    // A client that sends half a request and then nothing.
    const slow = connect(port, '127.0.0.1');
    await once(slow, 'connect');
    slow.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // A request whose headers are far over the limit.
    const big = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { 'x-filler': 'a'.repeat(20_000) } }).then((r) => r.status, () => 'refused');
    const normal = await scrape(`http://127.0.0.1:${port}/metrics`);
    assert.equal(normal.status, 200, 'a stuck client must not block other scrapes');
    assert.notEqual(big, 200, 'an oversized request is refused');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = await exited;
    clearTimeout(killer);
    slow.destroy();
    assert.equal(signal, null, 'the half-open request kept the app alive');
    assert.equal(code, 0);
    assert.match(out, /"done":true/);
  });
});
