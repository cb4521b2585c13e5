// Kerberos and Negotiate on Wine's secur32.dll against a real MIT KDC on loopback (started by
// scripts/windows-lane-kdc.sh): the handshakes Windows domain apps run, their failures, and which
// package Negotiate actually ran. Run by scripts/windows-lane.sh (`npm run test:windows`).
import assert from 'node:assert/strict';
import { parseMetrics, metricValue } from '../helpers/prom-text.mjs';
import { describeOnEachNode, explain, lane, runWineApp } from './support/wine.mjs';

const HANDSHAKES = 5;
const scenario = (name, { args = [], env = {} } = {}) => runWineApp('kerberos/scenario.mjs', { args: [name, ...args], env });

/** The JSON line a scenario printed, with its metrics parsed; fails with the app's output if there is none. */
function resultOf(run) {
  assert.equal(run.code, 0, explain(run));
  const [result] = run.results;
  assert.ok(result, explain(run));
  return { ...result, samples: parseMetrics(result.metrics) };
}

const negotiations = (samples, negotiated) => metricValue(samples, 'sspi_negotiations_total', { package: 'Negotiate', negotiated });

/** Every handle the app released is closed: nothing live, opened == closed for each kind of the package. */
function assertBalanced(r, pkg, opened) {
  assert.equal(r.live, 0, 'a balanced conversation ends with 0 live');
  for (const [kind, count] of Object.entries(opened)) {
    assert.equal(metricValue(r.samples, 'sspi_handles_opened_total', { kind, package: pkg }), count, `${kind} opened`);
    assert.equal(metricValue(r.samples, 'sspi_handles_closed_total', { kind, package: pkg }), count, `${kind} closed`);
  }
  assert.equal(metricValue(r.samples, 'sspi_invalid_releases_total'), 0, 'every release matched its handle');
}

const MUTUAL_LEGS = ['ISC SEC_I_CONTINUE_NEEDED', 'ASC SEC_E_OK', 'ISC SEC_E_OK'];
const SINGLE_LEGS = ['ISC SEC_E_OK', 'ASC SEC_E_OK'];
const NTLM_REJECTED_LEGS = ['ISC SEC_I_CONTINUE_NEEDED', 'ASC SEC_I_CONTINUE_NEEDED', 'ISC SEC_E_OK', 'ASC SEC_E_LOGON_DENIED'];

describeOnEachNode('Windows: Kerberos and Negotiate against an MIT KDC', function () {
  for (const pkg of ['Kerberos', 'Negotiate']) {
    it(`${pkg}: ${HANDSHAKES} balanced handshakes, mutual (two legs) and not (one), end with 0 live and opened == closed`, async function () {
      for (const [mode, legs] of [['mutual', MUTUAL_LEGS], ['single', SINGLE_LEGS]]) {
        const r = resultOf(await scenario('handshakes', { args: [pkg, mode, String(HANDSHAKES)] }));
        assert.deepEqual(r.legs, legs, `${mode}: the legs of a ${pkg} handshake`);
        assert.equal(r.succeeded, HANDSHAKES, `${mode}: every login succeeds`);
        assertBalanced(r, pkg, { credential: 2 * HANDSHAKES, context: 2 * HANDSHAKES });
        assert.equal(metricValue(r.samples, 'sspi_calls_total', { function: 'CompleteAuthToken' }), 0, 'Kerberos never asks for CompleteAuthToken');
        // Both sides of each Negotiate login ran Kerberos; a context of the Kerberos package negotiates nothing.
        assert.equal(negotiations(r.samples, 'Kerberos'), pkg === 'Negotiate' ? 2 * HANDSHAKES : 0, `${mode}: negotiated Kerberos`);
        assert.equal(negotiations(r.samples, 'NTLM') + negotiations(r.samples, 'unknown'), 0, `${mode}: nothing else negotiated`);
      }
    });
  }

  it("reports a leaked Kerberos context and a leaked Negotiate one with their handshake history, negotiated package and the app's file:line", async function () {
    const run = await scenario('leak');
    const r = resultOf(run);
    assert.deepEqual(r.legs, [MUTUAL_LEGS, MUTUAL_LEGS]);
    assert.deepEqual(run.report.byKind, { credential: 2, context: 2, buffer: 0 }, explain(run));
    const contexts = run.report.groups.filter((g) => g.kind === 'context');
    const line = (g) => g.stack.find((f) => f.includes('scenario.mjs'))?.match(/scenario\.mjs:(\d+):/)?.[1];
    const seen = contexts.map((g) => `${g.package} ${g.negotiated ?? '-'} ${g.direction} ${g.createdBy} line ${line(g)}: ${g.history.map((h) => h.replace(/ \+\d+ms$/, '')).join(', ')}`);
    assert.deepEqual(seen.sort(), [
      'Kerberos - outbound InitializeSecurityContextW line 62: InitializeSecurityContextW SEC_I_CONTINUE_NEEDED, InitializeSecurityContextW SEC_E_OK',
      'Negotiate Kerberos inbound AcceptSecurityContext line 66: AcceptSecurityContext SEC_E_OK',
    ]);
    assert.match(run.stderr, /Leak of 1 context \[Negotiate \(negotiated Kerberos\), inbound\] created by AcceptSecurityContext/);
    assert.match(run.stderr, /history of #\d+: InitializeSecurityContextW SEC_I_CONTINUE_NEEDED \+\d+ms, InitializeSecurityContextW SEC_E_OK \+\d+ms, never deleted/);
  });

  it('flags a Kerberos handshake whose AP-REP the client never processed as abandoned after the limit, and a finished one not', async function () {
    const r = resultOf(await scenario('abandoned', { args: ['900'], env: { SSPI_AGENT_MAX_HANDSHAKE: '300ms' } }));
    assert.deepEqual(r.legs, [['ISC SEC_I_CONTINUE_NEEDED', 'ASC SEC_E_OK'], MUTUAL_LEGS]);
    assert.deepEqual(r.stale.sort(), [
      'sspi_handles_leaked_total{kind="context",package="Kerberos",reason="abandoned"} 1',
      'sspi_handles_stale{kind="context",reason="abandoned"} 1',
    ]);
    assertBalanced(r, 'Kerberos', { credential: 2, context: 4 });
  });

  it('names the NTSTATUS of a wrong Kerberos password (STATUS_UNSUCCESSFUL from AcquireCredentialsHandle), and counts the Negotiate login that falls back to NTLM', async function () {
    const r = resultOf(await scenario('wrongPassword'));
    // The app sees the bare code (its binding names SEC_E_* only); the agent names it.
    assert.deepEqual(r.kerberos, { acquire: '0xC0000001' });
    assert.equal(metricValue(r.samples, 'sspi_calls_total', { function: 'AcquireCredentialsHandleW', status: 'STATUS_UNSUCCESSFUL' }), 1);
    // Wine's Negotiate does not fail: it runs NTLM, which the lane's winbindd does not know alice for.
    assert.deepEqual(r.negotiate, { legs: NTLM_REJECTED_LEGS, ok: false });
    assert.equal(negotiations(r.samples, 'NTLM'), 2, 'both sides of the fallback count as NTLM');
    assert.equal(negotiations(r.samples, 'Kerberos'), 0);
    assertBalanced(r, 'Negotiate', { credential: 2, context: 2 });
    assert.equal(r.live, 0);
  });

  it('with the KDC gone, Kerberos fails at acquire as for a wrong password, and Negotiate silently falls back to NTLM', async function () {
    const r = resultOf(await scenario('goodPassword', { env: { KRB5_CONFIG: lane().kerberos.configWithoutKdc } }));
    assert.deepEqual(r.kerberos, { acquire: '0xC0000001' });
    assert.equal(metricValue(r.samples, 'sspi_calls_total', { function: 'AcquireCredentialsHandleW', status: 'STATUS_UNSUCCESSFUL' }), 1);
    assert.deepEqual(r.negotiate, { legs: NTLM_REJECTED_LEGS, ok: false });
    assert.equal(negotiations(r.samples, 'NTLM'), 2);
    assert.equal(r.live, 0);
  });

  it('gives a bad target, no credentials and a keytab without the service each their status, and leaks nothing the app released', async function () {
    const r = resultOf(await scenario('failures'));
    // A target with no service principal: Kerberos fails at once, Negotiate falls back to NTLM.
    assert.deepEqual(r.badTarget, { kerberos: { legs: ['ISC SEC_E_INTERNAL_ERROR'], ok: false }, negotiate: { legs: NTLM_REJECTED_LEGS, ok: false } });
    assert.equal(negotiations(r.samples, 'NTLM'), 2);
    assert.deepEqual(r.noCredentials, { kerberos: 'SEC_E_NO_CREDENTIALS', negotiate: 0, negotiateFirstLeg: 'SEC_E_NO_CREDENTIALS' });
    assert.deepEqual(r.server, { legs: MUTUAL_LEGS, ok: true });
    assert.equal(metricValue(r.samples, 'sspi_calls_total', { function: 'AcquireCredentialsHandleW', status: 'SEC_E_NO_CREDENTIALS' }), 1);
    assert.equal(metricValue(r.samples, 'sspi_calls_total', { function: 'InitializeSecurityContextW', status: 'SEC_E_INTERNAL_ERROR' }), 1);
    assert.equal(r.live, 0);
    assert.equal(metricValue(r.samples, 'sspi_invalid_releases_total'), 0);

    const wrongKeytab = await scenario('goodPassword', { env: { KRB5_KTNAME: `FILE:${lane().kerberos.keytabWithoutService}` } });
    const k = resultOf(wrongKeytab);
    assert.deepEqual(k.kerberos, { legs: ['ISC SEC_I_CONTINUE_NEEDED', 'ASC SEC_E_INTERNAL_ERROR'], ok: false });
    assert.equal(metricValue(k.samples, 'sspi_calls_total', { function: 'AcceptSecurityContext', status: 'SEC_E_INTERNAL_ERROR' }) >= 1, true);
    assert.equal(k.live, 0, 'the client context of a refused AP-REQ was deleted by the app, and is closed');
    assert.equal(wrongKeytab.report.total, 0, explain(wrongKeytab));
  });

  it('cleans up live Kerberos and Negotiate contexts in order at exit with secur32.dll', async function () {
    const run = await scenario('leaveLive', { env: { SSPI_AGENT_CLEANUP: 'exit' } });
    resultOf(run);
    const { cleanup } = run.report;
    assert.deepEqual(cleanup.map((c) => c.kind), ['context', 'context', 'context', 'context', 'credential', 'credential', 'credential', 'credential'], explain(run));
    assert.ok(cleanup.every((c) => c.status === 'SEC_E_OK' && c.result === 'released'), JSON.stringify(cleanup));
    assert.deepEqual(run.report.groups.filter((g) => g.kind === 'context').map((g) => `${g.package} ${g.negotiated ?? '-'}`).sort(), [
      'Kerberos -',
      'Kerberos -',
      'Negotiate Kerberos',
      'Negotiate Kerberos',
    ]);
  });

  it('tracks the NEGOTIATION_INFO buffer of Kerberos and Negotiate contexts until FreeContextBuffer', async function () {
    const r = resultOf(await scenario('negotiationInfo'));
    for (const pkg of ['Kerberos', 'Negotiate']) {
      assert.deepEqual(r[pkg], { name: 'Kerberos', buffersHeld: 1, freeStatus: 0, buffersAfterFree: 0 }, pkg);
    }
    assert.equal(r.live, 0);
  });
});
