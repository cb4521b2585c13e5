// SspiInstrumentation in an app's own NodeSDK, without `--import sspi-agent`: spans on real logins,
// and enable/disable symmetric (disable puts koffi and node-expose-sspi back; enable instruments them again).
import assert from 'node:assert/strict';
import { explain, runApp } from '../helpers/run-app.mjs';

const LOGIN_SPANS = 11; // 2 acquires, 2 ISC, 2 ASC, CompleteAuthToken, 2 deletes, 2 frees
/** The node-expose-sspi functions the agent wraps (the stand-in addon has these six). */
const ADDON_WRAPPED = ['AcceptSecurityContext', 'AcquireCredentialsHandle', 'DeleteSecurityContext', 'FreeCredentialsHandle', 'InitializeSecurityContext', 'QuerySecurityPackageInfo'];

function phases(run) {
  assert.equal(run.code, 0, explain(run));
  return Object.fromEntries(run.results.map((r) => [r.phase, r]));
}

describe('SspiInstrumentation (no preload)', function () {
  let p;
  before(async function () {
    p = phases(await runApp('otel/instrumentation-app.mjs', { agent: false, args: ['cjs'] }));
  });

  it('instruments koffi and node-expose-sspi loaded with require and traces logins as children of the request', function () {
    assert.deepEqual(p.enabled, {
      phase: 'enabled',
      enabled: true,
      loadWrapped: true,
      libWrapped: true,
      addonWrapped: ADDON_WRAPPED,
      login: { count: LOGIN_SPANS, parentIsRequest: true },
    });
  });

  it('disable() unwraps koffi, its libraries and node-expose-sspi; functions declared while enabled pass straight through', function () {
    for (const name of ['disabled, declared while enabled', 'disabled, declared while disabled']) {
      assert.equal(p[name].enabled, false);
      assert.equal(p[name].loadWrapped, false, `${name}: koffi.load is koffi's own`);
      assert.equal(p[name].libWrapped, false, `${name}: a library's func is koffi's own`);
      assert.deepEqual(p[name].addonWrapped, [], `${name}: node-expose-sspi's functions are its own`);
      assert.equal(p[name].login.count, 0, `${name}: no spans`);
    }
    // enable() again instruments the modules it saw required (each by its own module definition), and traces as before.
    assert.deepEqual(p['enabled again'], {
      phase: 'enabled again',
      enabled: true,
      loadWrapped: true,
      libWrapped: true,
      addonWrapped: ADDON_WRAPPED,
      login: { count: LOGIN_SPANS, parentIsRequest: true },
    });
  });

  it('instruments koffi imported as an ES module after the SDK started', async function () {
    const p = phases(await runApp('otel/instrumentation-app.mjs', { agent: false, args: ['esm'] }));
    assert.equal(p.enabled.loadWrapped, true);
    assert.deepEqual(p.enabled.login, { count: LOGIN_SPANS, parentIsRequest: true });
  });

  it('under the preload too, each call is traced once', async function () {
    const p = phases(await runApp('otel/instrumentation-app.mjs', { args: ['esm'] }));
    assert.deepEqual(p.enabled.login, { count: LOGIN_SPANS, parentIsRequest: true });
  });
});
