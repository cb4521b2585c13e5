// Real NTLM handshakes on WinPR, in apps run under `node --import sspi-agent`.
import assert from 'node:assert/strict';
import { runApp, explain } from '../helpers/run-app.mjs';
import { parseMetrics, metricValue } from '../helpers/prom-text.mjs';

const HANDSHAKES = 1000;

function checkBalanced(run) {
  assert.equal(run.code, 0, explain(run));
  const [result] = run.results;
  assert.equal(result.succeeded, HANDSHAKES, 'every handshake must authenticate');
  assert.equal(result.live, 0);
  const samples = parseMetrics(result.metrics);
  for (const kind of ['credential', 'context']) {
    // Each handshake acquires a client and a server credential and creates a client and a server context.
    const expected = 2 * HANDSHAKES;
    assert.equal(metricValue(samples, 'sspi_handles_live', { kind }), 0, `${kind} live`);
    assert.equal(metricValue(samples, 'sspi_handles_opened_total', { kind, package: 'NTLM' }), expected, `${kind} opened`);
    assert.equal(metricValue(samples, 'sspi_handles_closed_total', { kind, package: 'NTLM' }), expected, `${kind} closed`);
  }
  assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'InitializeSecurityContextW', status: 'SEC_I_CONTINUE_NEEDED' }), HANDSHAKES);
  assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'AcceptSecurityContext', status: 'SEC_I_COMPLETE_NEEDED' }), HANDSHAKES);
  assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'CompleteAuthToken', status: 'SEC_E_OK' }), HANDSHAKES);
  assert.equal(metricValue(samples, 'sspi_invalid_releases_total'), 0);
  assert.equal(run.report.total, 0);
  assert.equal(run.stderr, '', 'nothing leaked, so nothing is printed');
}

describe('NTLM handshakes', function () {
  it(`an ES module app: ${HANDSHAKES} balanced handshakes end with 0 live and opened == closed`, async function () {
    checkBalanced(await runApp('handshakes-esm.mjs', { args: [String(HANDSHAKES)] }));
  });

  it(`a CommonJS app: ${HANDSHAKES} balanced handshakes end with 0 live and opened == closed`, async function () {
    checkBalanced(await runApp('handshakes-cjs.cjs', { args: [String(HANDSHAKES)] }));
  });

  it("keeps a rejected login's server context live until the app deletes it", async function () {
    const run = await runApp('rejected-login.mjs');
    assert.equal(run.code, 0, explain(run));
    const [r] = run.results;
    assert.ok(r.serverStatus < 0, `the login must be rejected, got ${r.serverStatus}`);
    assert.deepEqual(r.afterRejection, ['inbound:AcceptSecurityContext', 'outbound:InitializeSecurityContextW']);
    assert.deepEqual(r.afterServerDelete, ['outbound:InitializeSecurityContextW']);
    assert.equal(r.liveAtEnd, 0);
  });

  it("reports exactly the 2 credentials and 3 contexts a leaky app leaks, with the app's file:line", async function () {
    const run = await runApp('leaky-app.mjs');
    assert.equal(run.code, 0, explain(run));
    const { report } = run;
    assert.deepEqual(report.byKind, { credential: 2, context: 3, buffer: 0 });
    const site = (g) => g.stack.find((f) => f.includes('leaky-app.mjs'))?.match(/leaky-app\.mjs:(\d+):/)?.[1];
    const leaks = report.groups.map((g) => `${g.kind} ${g.direction} ${g.createdBy} line ${site(g)} x${g.count}`).sort();
    assert.deepEqual(leaks, [
      'context inbound AcceptSecurityContext line 27 x1',
      'context outbound InitializeSecurityContextW line 17 x1',
      'context outbound InitializeSecurityContextW line 17 x1',
      'credential inbound AcquireCredentialsHandleW line 13 x1',
      'credential outbound AcquireCredentialsHandleW line 9 x1',
    ]);
    const contexts = report.handles.filter((h) => h.kind === 'context');
    assert.ok(contexts.every((h) => typeof h.credentialId === 'number'), 'each context names the credential it was made from');
    assert.match(run.stderr, /5 SSPI handles still live at exit \(2 credentials, 3 contexts\)/);
    assert.match(run.stderr, /at forgetClientCredential \(file:\/\/.*leaky-app\.mjs:9:\d+\)/);
    assert.match(run.stderr, /at file:\/\/.*leaky-app\.mjs:27:\d+/);
  });
});
