// The koffi hook, loaded the way users load it: `node --import sspi-agent` on a real WinPR.
import assert from 'node:assert/strict';
import { runApp, explain } from '../helpers/run-app.mjs';

describe('koffi hook', function () {
  it('tracks every declaration form, keeps .info, and wraps .async', async function () {
    const run = await runApp('declaration-forms.mjs');
    assert.equal(run.code, 0, explain(run));
    const forms = Object.fromEntries(run.results.map((r) => [r.form, r]));
    const expected = [
      'prototype string with __stdcall',
      'prototype string',
      '(name, result, params)',
      '(__stdcall, name, result, params)',
      'lib.stdcall(name, result, params)',
      'lib.cdecl(name, result, params)',
      '.async',
    ];
    for (const form of expected) {
      const r = forms[form];
      assert.ok(r, `no result for ${form}\n${explain(run)}`);
      assert.equal(r.acquireStatus, 0, form);
      assert.equal(r.freeStatus, 0, form);
      assert.equal(r.liveAfterAcquire, 1, `${form}: acquire not tracked`);
      assert.equal(r.liveAfterFree, 0, `${form}: free not seen`);
      if (form !== '.async') assert.equal(r.infoName, 'AcquireCredentialsHandleW', `${form}: .info lost`);
    }
  });

  it('fails a declaration koffi rejects with the same error as without the agent', async function () {
    const form = '(name, koffi.proto(...))';
    const [withAgent, without] = await Promise.all([
      runApp('declaration-forms.mjs'),
      runApp('declaration-forms.mjs', { agent: false }),
    ]);
    const a = withAgent.results.find((r) => r.form === form);
    const b = without.results.find((r) => r.form === form);
    assert.ok(a && b, explain(withAgent));
    assert.match(b.error ?? '', /TypeError/, 'koffi itself rejects this form');
    assert.equal(a.error, b.error);
  });

  it('gives a handle one identity in every shape koffi accepts', async function () {
    const run = await runApp('handle-shapes.mjs');
    assert.equal(run.code, 0, explain(run));
    const shapes = run.results.filter((r) => r.shape);
    assert.deepEqual(
      shapes.map((r) => r.shape),
      ['object', 'one-element array', 'Buffer(16)', 'BigUint64Array(2)', 'Uint8Array at an offset', 'koffi.alloc pointer', 'object then Buffer'],
    );
    for (const r of shapes) {
      assert.equal(r.freeStatus, 0, r.shape);
      assert.equal(r.liveAfterAcquire, 1, `${r.shape}: acquire not tracked`);
      assert.equal(r.liveAfterFree, 0, `${r.shape}: free did not end the handle`);
    }
    assert.deepEqual(run.results.at(-1).invalidReleaseLines, [], 'a release was not matched to its handle');
  });

  it('instruments a CommonJS app (require) and reports its leaks with file:line', async function () {
    const run = await runApp('cjs-require.cjs');
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.report.total, 2);
    assert.deepEqual(run.report.handles.map((h) => [h.kind, h.direction]), [['credential', 'inbound'], ['credential', 'both']]);
    for (const h of run.report.handles) assert.match(h.site, /test\/fixtures\/cjs-require\.cjs:13:\d+$/);
    assert.match(run.stderr, /2 SSPI handles still live at exit/);
    assert.match(run.stderr, /at Object\.<anonymous> \(.*cjs-require\.cjs:19:\d+\)/);
    assert.match(run.stderr, /at Object\.<anonymous> \(.*cjs-require\.cjs:20:\d+\)/);
  });

  it("instruments an ES module app's named import { load } from 'koffi'", async function () {
    const run = await runApp('esm-named-import.mjs');
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.report.total, 1, explain(run));
    assert.equal(run.report.handles[0].package, 'Negotiate');
    assert.match(run.report.handles[0].site, /esm-named-import\.mjs:12:\d+$/);
  });

  it('reports nothing once the app stopped the agent, even when it exits at once', async function () {
    const run = await runApp('stop-then-exit.mjs', { env: { SSPI_AGENT_FAIL_ON_LEAK: '1' } });
    assert.equal(run.code, 0, explain(run));
    assert.deepEqual(run.results, [{ held: true }]);
    assert.equal(run.report, undefined, 'no report file');
    assert.equal(run.stderr, '');
  });

  it('leaves a library that is not an SSPI provider untouched', async function () {
    const run = await runApp('non-sspi-library.mjs');
    assert.equal(run.code, 0, explain(run));
    assert.deepEqual(run.results[0], { funcOnInstance: false, length: 10, sspiCallLines: [] });
  });

  it('counts releases of handles it never saw as unknown, and lets them through', async function () {
    const run = await runApp('unknown-release.mjs');
    assert.equal(run.code, 0, explain(run));
    const r = run.results[0];
    assert.equal(r.acquireStatus, 0);
    assert.equal(r.freeStatus, 0, 'the native free of an untracked handle must still run');
    assert.equal(r.freeNullStatus, 0x80090305 | 0, 'FreeCredentialsHandle(NULL) gives WinPR’s own answer, SEC_E_SECPKG_NOT_FOUND');
    assert.deepEqual(r.lines, ['sspi_invalid_releases_total{kind="credential",reason="unknown"} 2']);
  });
});
