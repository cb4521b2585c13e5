// End to end over OTLP/HTTP (JSON) to a receiver this test runs on 127.0.0.1: the agent's sdk-node
// bootstrap (an app with no OpenTelemetry code, run under `node --import sspi-agent` with standard
// OTEL_* variables) on a normal exit and on SIGTERM, and an app's own NodeSDK with SspiInstrumentation.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { explain, FIXTURES, REPO, runApp } from '../helpers/run-app.mjs';
import { freePort } from '../../examples/lib/free-port.mjs';
import { startReceiver } from '../helpers/otlp-receiver.mjs';
import { USER } from '../fixtures/support/handshakes.mjs';

const WRONG_PASSWORD = 'Wr0ng-Password';

function otelEnv(receiver, extra = {}) {
  return {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_SERVICE_NAME: 'sspi-otlp-test',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
    SSPI_AGENT_REPORT: '0',
    ...extra,
  };
}

/** Starts the app, sends `signal` once it printed {"ready":true}, resolves with how it ended. */
function runUntilSignal(app, env, signal, { agent = true } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(agent ? ['--import', 'sspi-agent'] : []), join(FIXTURES, app), 'sigterm'], {
      cwd: REPO,
      env: { ...process.env, WLOG_LEVEL: 'OFF', SSPI_AGENT_METRICS_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('{"ready":true}')) child.kill(signal);
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, stdout, stderr });
    });
  });
}

/** What every export of the app must (not) contain. */
function checkNoSecrets(receiver) {
  const raw = receiver.raw();
  assert.ok(raw.length > 0);
  for (const secret of [USER.password, WRONG_PASSWORD]) {
    for (const encoding of ['utf8', 'utf16le']) {
      assert.equal(raw.indexOf(Buffer.from(secret, encoding)), -1, `${secret} (${encoding}) in an exported payload`);
    }
    assert.equal(raw.indexOf(Buffer.from(Buffer.from(secret, 'utf16le').toString('base64'))), -1, `${secret} as base64`);
  }
  // No auth identity either: the user and domain names the app passed to AcquireCredentialsHandleW.
  assert.equal(raw.indexOf(Buffer.from(USER.user)), -1, 'user name in an exported payload');
  assert.equal(raw.indexOf(Buffer.from(USER.domain)), -1, 'domain name in an exported payload');
  // Nor the target name the app passed to InitializeSecurityContextW.
  assert.equal(raw.indexOf(Buffer.from('HTTP/otlp')), -1, 'target name in an exported payload');
}

function checkExport(receiver) {
  const spans = receiver.spans();
  assert.ok(spans.length > 0, 'spans arrived');
  const [first] = spans;
  assert.equal(first.resource['service.name'], 'sspi-otlp-test', 'resource from OTEL_SERVICE_NAME');
  assert.equal(first.resource['deployment.environment.name'], 'test', 'resource from OTEL_RESOURCE_ATTRIBUTES');
  assert.ok(spans.every((s) => s.scope === 'sspi-agent'));
  const names = spans.map((s) => s.name);
  assert.equal(names.filter((n) => n === 'CompleteAuthToken').length, 2);
  const rejected = spans.find((s) => s.name === 'CompleteAuthToken' && s.status.code === 2);
  assert.equal(rejected?.attributes['sspi.status'], 'SEC_E_MESSAGE_ALTERED');
  const leaks = spans.filter((s) => s.name === 'sspi.leak');
  assert.deepEqual(leaks.map((s) => `${s.attributes['sspi.handle.kind']}:${s.attributes['sspi.leak.reason']}`).sort(), [
    'context:exit',
    'credential:exit',
  ]);
  const metrics = receiver.metrics();
  const opened = (kind) => (metrics['sspi.handle.opened'] ?? []).filter((p) => p.attributes['sspi.handle.kind'] === kind).reduce((n, p) => n + p.value, 0);
  // Two handshakes (2 credentials, 2 contexts each) plus the leaked credential and context.
  assert.equal(opened('credential'), 5);
  assert.equal(opened('context'), 5);
  const live = (metrics['sspi.handle.count'] ?? []).reduce((n, p) => n + p.value, 0);
  assert.equal(live, 2, 'the leaked credential and context are live in the last export');
  return spans;
}

describe('OpenTelemetry over OTLP/HTTP (a local receiver)', function () {
  let receiver;
  beforeEach(async function () {
    receiver = await startReceiver();
  });
  afterEach(async function () {
    await receiver.close();
  });

  it('exports call spans, exit leak spans and metrics when the app ends normally', async function () {
    const run = await runApp('otel/otlp-app.mjs', { env: otelEnv(receiver) });
    assert.equal(run.code, 0, explain(run));
    assert.deepEqual(run.results, [{ done: true }]);
    checkExport(receiver);
    checkNoSecrets(receiver);
  });

  it('exports the leak spans of a SIGTERM before the process ends by the signal', async function () {
    const run = await runUntilSignal('otel/otlp-app.mjs', otelEnv(receiver), 'SIGTERM');
    assert.equal(run.signal, 'SIGTERM', `${run.stdout}\n${run.stderr}`);
    const leaks = checkExport(receiver).filter((s) => s.name === 'sspi.leak');
    assert.ok(leaks.every((s) => s.attributes['code.stacktrace'] === undefined || !s.attributes['code.stacktrace'].includes(USER.password)));
    checkNoSecrets(receiver);
  });

  it("SspiInstrumentation, no preload: a SIGTERM flushes the app's SDK before the signal ends the process", async function () {
    const run = await runUntilSignal('otel/instrumentation-otlp.mjs', otelEnv(receiver), 'SIGTERM', { agent: false });
    assert.equal(run.signal, 'SIGTERM', `${run.stdout}\n${run.stderr}`);
    const spans = receiver.spans();
    assert.equal(spans[0]?.resource['service.name'], 'sspi-otlp-test');
    assert.deepEqual(spans.filter((s) => s.scope === 'sspi-agent').map((s) => s.name).sort(), [
      'AcquireCredentialsHandleW',
      'InitializeSecurityContextW',
      'sspi.leak',
      'sspi.leak',
    ]);
    checkNoSecrets(receiver);
  });

  it('waits at most SSPI_AGENT_OTEL_FLUSH_TIMEOUT for a collector that cannot be reached, then ends with its exit code', async function () {
    const env = otelEnv(receiver, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`, SSPI_AGENT_OTEL_FLUSH_TIMEOUT: '300ms' });
    const started = Date.now();
    const run = await runApp('otel/otlp-app.mjs', { env });
    assert.equal(run.code, 0, explain(run));
    assert.match(run.stderr, /the OpenTelemetry export at the process end did not finish in SSPI_AGENT_OTEL_FLUSH_TIMEOUT \(300 ms\)/);
    assert.ok(Date.now() - started < 5000, `ended after ${Date.now() - started} ms (the exporter alone retries for 10 s)`);
  });

  it('starts no SDK with OTEL_SDK_DISABLED=true, nor without OTEL_* variables asking for export', async function () {
    const disabled = await runApp('otel/otlp-app.mjs', { env: otelEnv(receiver, { OTEL_SDK_DISABLED: 'true' }) });
    assert.equal(disabled.code, 0, explain(disabled));
    const env = otelEnv(receiver);
    for (const name of ['OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT']) delete env[name];
    const unasked = await runApp('otel/otlp-app.mjs', { env });
    assert.equal(unasked.code, 0, explain(unasked));
    assert.equal(receiver.requests.length, 0);
  });

  it("uses the app's own SDK and starts none when the app registered one", async function () {
    const run = await runApp('otel/call-spans.mjs', { env: otelEnv(receiver) });
    assert.equal(run.code, 0, explain(run));
    const [out] = run.results;
    assert.ok(out.spans.some((s) => s.name === 'AcceptSecurityContext'), 'the call spans went to the app’s SDK');
    assert.equal(receiver.requests.length, 0, 'nothing went to the OTLP endpoint');
  });
});
