// SspiInstrumentation in an app's own NodeSDK, without `--import sspi-agent`: spans on real logins,
// and enable/disable symmetric (disable puts koffi and node-expose-sspi back; enable resumes the same
// agent, which tracks the functions declared before again), for CommonJS and ES modules.
import assert from 'node:assert/strict';
import { explain, runApp } from '../helpers/run-app.mjs';

const LOGIN_SPANS = 7; // 2 acquires, 2 ISC, 2 ASC, CompleteAuthToken (deletes and frees only with SSPI_AGENT_CALL_SPANS=all)
/** The node-expose-sspi functions the agent wraps (the stand-in addon has these six). */
const ADDON_WRAPPED = ['AcceptSecurityContext', 'AcquireCredentialsHandle', 'DeleteSecurityContext', 'FreeCredentialsHandle', 'InitializeSecurityContext', 'QuerySecurityPackageInfo'];

function phases(run) {
  assert.equal(run.code, 0, explain(run));
  return Object.fromEntries(run.results.map((r) => [r.phase, r]));
}

const SEC_E_INVALID_HANDLE = 0x80090301 | 0;
const TRACED = { count: LOGIN_SPANS, parentIsRequest: true };
const INSTRUMENTED = { enabled: true, loadWrapped: true, libWrapped: true, addonWrapped: ADDON_WRAPPED, login: TRACED };

/** disable() and enable() twice, with koffi loaded through `require` or `import`. */
function togglesSymmetrically(mode) {
  describe(`disable() and enable() (${mode})`, function () {
    let p;
    before(async function () {
      p = phases(await runApp('otel/instrumentation-app.mjs', { agent: false, args: [mode] }));
    });

    it('instruments koffi and node-expose-sspi and traces logins as children of the request', function () {
      assert.deepEqual(p.enabled, { phase: 'enabled', ...INSTRUMENTED, sameAgent: true, liveCredentials: 1 });
    });

    it('disable() puts back koffi, its libraries and node-expose-sspi; functions declared while enabled pass straight through', function () {
      for (const name of ['disabled, declared while enabled', 'disabled, declared while disabled']) {
        assert.equal(p[name].enabled, false);
        assert.equal(p[name].loadWrapped, false, `${name}: koffi.load is koffi's own`);
        assert.equal(p[name].libWrapped, false, `${name}: a library's func is koffi's own`);
        assert.deepEqual(p[name].addonWrapped, [], `${name}: node-expose-sspi's functions are its own`);
        assert.equal(p[name].login.count, 0, `${name}: no spans`);
        assert.deepEqual([p[name].sameAgent, p[name].liveCredentials], [true, 1], `${name}: the API reads the same agent, whose books are kept`);
      }
    });

    it('enable() resumes the same agent: functions declared before, during and after are tracked, twice over', function () {
      for (const name of ['enabled again', 'enabled again, declared before', 'enabled a third time, declared before']) {
        assert.deepEqual(p[name], { phase: name, ...INSTRUMENTED, sameAgent: true, liveCredentials: 1 }, name);
      }
    });

    it('still stops a double free of a credential freed before the first disable()', function () {
      assert.deepEqual(p['double free'], { phase: 'double free', status: SEC_E_INVALID_HANDLE });
      assert.deepEqual(p.end, { phase: 'end', sameAgent: true, liveCredentials: 0 });
    });
  });
}

describe('SspiInstrumentation (no preload)', function () {
  togglesSymmetrically('cjs');
  togglesSymmetrically('esm');

  it('under the preload too, each call is traced once', async function () {
    const p = phases(await runApp('otel/instrumentation-app.mjs', { args: ['esm'] }));
    assert.deepEqual(p.enabled.login, TRACED);
  });
});
