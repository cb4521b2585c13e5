// The koffi hook on Windows: the same fixture apps as the Linux suite, in Windows' own node.exe under
// Wine, declaring their SSPI functions on Wine's secur32.dll (a second, real implementation of the
// Windows side). Run by scripts/windows-lane.sh (`npm run test:windows`), never by `npm test`.
import assert from 'node:assert/strict';
import { parseMetrics, metricValue } from '../helpers/prom-text.mjs';
import { describeOnEachNode, explain, runWineApp } from './support/wine.mjs';

const HANDSHAKES = 10;
const SEC_E_INVALID_HANDLE = 0x80090301 | 0;
const SEC_E_LOGON_DENIED = 0x8009030c | 0;
const SEC_E_UNSUPPORTED_FUNCTION = 0x80090302 | 0;
const scenario = (name, options = {}) => runWineApp('lifecycle/scenario.mjs', { ...options, args: [name, ...(options.args ?? [])] });

/** Wine's secur32 checks an NTLM password with Samba's ntlm_auth: every context costs a helper process. */
function checkBalanced(run) {
  assert.equal(run.code, 0, explain(run));
  const [result] = run.results;
  assert.ok(result, explain(run));
  assert.equal(result.succeeded, HANDSHAKES, 'every handshake must authenticate');
  assert.equal(result.live, 0, 'a balanced handshake ends with 0 live');
  const samples = parseMetrics(result.metrics);
  for (const kind of ['credential', 'context']) {
    assert.equal(metricValue(samples, 'sspi_handles_live', { kind }), 0, `${kind} live`);
    assert.equal(metricValue(samples, 'sspi_handles_opened_total', { kind, package: 'NTLM' }), 2 * HANDSHAKES, `${kind} opened`);
    assert.equal(metricValue(samples, 'sspi_handles_closed_total', { kind, package: 'NTLM' }), 2 * HANDSHAKES, `${kind} closed`);
  }
  assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'InitializeSecurityContextW', status: 'SEC_I_CONTINUE_NEEDED' }), HANDSHAKES);
  // Unlike WinPR, Wine's NTLM server finishes in AcceptSecurityContext: no SEC_I_COMPLETE_NEEDED, no CompleteAuthToken.
  assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'AcceptSecurityContext', status: 'SEC_E_OK' }), HANDSHAKES);
  assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'CompleteAuthToken' }), 0);
  assert.equal(metricValue(samples, 'sspi_invalid_releases_total'), 0, 'every release matched its handle');
  assert.equal(run.report.total, 0);
  assert.equal(run.stderr, '', 'nothing leaked, so nothing is printed');
}

describeOnEachNode('Windows: koffi on secur32.dll', function () {
  it(`an ES module app: ${HANDSHAKES} balanced NTLM handshakes end with 0 live and opened == closed`, async function () {
    checkBalanced(await runWineApp('handshakes-esm.mjs', { args: [String(HANDSHAKES)] }));
  });

  it(`a CommonJS app: ${HANDSHAKES} balanced NTLM handshakes end with 0 live and opened == closed`, async function () {
    checkBalanced(await runWineApp('handshakes-cjs.cjs', { args: [String(HANDSHAKES)] }));
  });

  it("reports exactly the 2 credentials and 3 contexts a leaky app leaks on secur32.dll, with the app's file:line", async function () {
    const run = await runWineApp('leaky-app.mjs');
    assert.equal(run.code, 0, explain(run));
    const { report } = run;
    assert.ok(report, explain(run));
    assert.deepEqual(report.byKind, { credential: 2, context: 3, buffer: 0 }, explain(run));
    assert.ok(report.groups.every((g) => g.library === 'secur32.dll'), 'the handles come from secur32.dll');
    const site = (g) => g.stack.find((f) => f.includes('leaky-app.mjs'))?.match(/leaky-app\.mjs:(\d+):/)?.[1];
    const leaks = report.groups.map((g) => `${g.kind} ${g.direction} ${g.createdBy} line ${site(g)} x${g.count}`).sort();
    assert.deepEqual(leaks, [
      'context inbound AcceptSecurityContext line 27 x1',
      'context outbound InitializeSecurityContextW line 17 x1',
      'context outbound InitializeSecurityContextW line 17 x1',
      'credential inbound AcquireCredentialsHandleW line 13 x1',
      'credential outbound AcquireCredentialsHandleW line 9 x1',
    ]);
    assert.match(run.stderr, /5 SSPI handles still live at exit \(2 credentials, 3 contexts\)/);
    // Windows paths, as Windows' node.exe prints them: ES module URLs on drive Z:.
    assert.match(run.stderr, /at forgetClientCredential \(file:\/\/\/Z:\/.*\/test\/fixtures\/leaky-app\.mjs:9:\d+\)/);
  });

  it("keeps a rejected login's server context live until the app deletes it (SEC_E_LOGON_DENIED)", async function () {
    const run = await runWineApp('rejected-login.mjs');
    assert.equal(run.code, 0, explain(run));
    const [r] = run.results;
    assert.equal(r.serverStatus, SEC_E_LOGON_DENIED, 'Windows rejects a wrong password in AcceptSecurityContext');
    assert.deepEqual(r.afterRejection, ['inbound:AcceptSecurityContext', 'outbound:InitializeSecurityContextW']);
    assert.deepEqual(r.afterServerDelete, ['outbound:InitializeSecurityContextW']);
    assert.equal(r.liveAtEnd, 0);
  });

  it('tracks every declaration form (__stdcall included) and .async on secur32.dll', async function () {
    const run = await runWineApp('declaration-forms.mjs', { env: { SSPI_LIBRARY: 'secur32.dll' } });
    assert.equal(run.code, 0, explain(run));
    const forms = Object.fromEntries(run.results.map((r) => [r.form, r]));
    for (const form of [
      'prototype string with __stdcall',
      'prototype string',
      '(name, result, params)',
      '(__stdcall, name, result, params)',
      'lib.stdcall(name, result, params)',
      'lib.cdecl(name, result, params)',
      '.async',
    ]) {
      const r = forms[form];
      assert.ok(r, `no result for ${form}\n${explain(run)}`);
      assert.equal(r.acquireStatus, 0, form);
      assert.equal(r.freeStatus, 0, form);
      assert.equal(r.liveAfterAcquire, 1, `${form}: acquire not tracked`);
      assert.equal(r.liveAfterFree, 0, `${form}: free not seen`);
    }
  });

  it('gives a handle one identity in every shape koffi accepts', async function () {
    const run = await runWineApp('handle-shapes.mjs');
    assert.equal(run.code, 0, explain(run));
    const shapes = run.results.filter((r) => r.shape);
    assert.equal(shapes.length, 7, explain(run));
    for (const r of shapes) {
      assert.equal(r.freeStatus, 0, r.shape);
      assert.equal(r.liveAfterAcquire, 1, `${r.shape}: acquire not tracked`);
      assert.equal(r.liveAfterFree, 0, `${r.shape}: free did not end the handle`);
    }
    assert.deepEqual(run.results.at(-1).invalidReleaseLines, []);
  });

  it("instruments an ES module app's named import { load } from 'koffi'", async function () {
    const run = await runWineApp('esm-named-import.mjs');
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.report.total, 1, explain(run));
    assert.equal(run.report.handles[0].package, 'Negotiate');
    assert.match(run.report.handles[0].site, /esm-named-import\.mjs:12:\d+$/);
  });

  it('instruments a CommonJS app, and writes the report when it dies of an uncaught exception (Windows paths in the stack)', async function () {
    // Wine's NTLM refuses SECPKG_CRED_BOTH with SEC_E_UNSUPPORTED_FUNCTION, so the app's third
    // acquire throws: the report is then written on the uncaught-exception path.
    const run = await runWineApp('cjs-require.cjs');
    assert.equal(run.code, 1, explain(run));
    assert.match(run.stderr, new RegExp(`AcquireCredentialsHandleW failed: ${SEC_E_UNSUPPORTED_FUNCTION}`));
    assert.equal(run.report.reason, 'uncaught exception', explain(run));
    assert.deepEqual(run.report.handles.map((h) => [h.kind, h.direction]), [['credential', 'outbound'], ['credential', 'inbound']]);
    for (const h of run.report.handles) assert.match(h.site, /^Z:\\.*\\test\\fixtures\\cjs-require\.cjs:13:\d+$/);
    assert.match(run.stderr, /2 SSPI handles still live at uncaught exception/);
  });

  it('stops a double free and a use after release on secur32.dll and returns SEC_E_INVALID_HANDLE', async function () {
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
  });

  it('counts an unload of secur32.dll with live handles', async function () {
    const run = await scenario('unload');
    assert.equal(run.code, 0, explain(run));
    assert.deepEqual(run.results[0].unloads, ['sspi_unload_with_live_handles_total 1']);
    assert.match(run.stderr, /secur32\.dll unloaded while 2 handle\(s\) it made are live/);
  });

  it('tracks buffers from QuerySecurityPackageInfoW and EnumerateSecurityPackagesW until FreeContextBuffer', async function () {
    const run = await scenario('buffers');
    assert.equal(run.code, 0, explain(run));
    const r = run.results[0];
    assert.equal(r.name, 'NTLM');
    assert.equal(r.afterReturned, 0);
    assert.equal(r.afterEnumerate, 1);
    assert.equal(r.live, 1);
    assert.deepEqual(run.report.byKind, { credential: 0, context: 0, buffer: 1 });
  });

  it("cleans up in order at exit with secur32.dll's own functions, and fails on leak with exit code 1", async function () {
    const run = await scenario('leakThenEnd', { env: { SSPI_AGENT_CLEANUP: 'exit', SSPI_AGENT_FAIL_ON_LEAK: '1' } });
    assert.equal(run.code, 1, explain(run));
    const { cleanup } = run.report;
    assert.deepEqual(cleanup.map((c) => c.kind), ['context', 'context', 'context', 'credential', 'credential', 'credential'], explain(run));
    assert.ok(cleanup.every((c) => c.status === 'SEC_E_OK' && c.result === 'released'), JSON.stringify(cleanup));
  });
});
