// koffi 2 (CommonJS only, pointers as External objects, `lib.func` a plain property): the same
// fixtures in an app that installed koffi 2 instead of 3.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runApp, explain, REPO, FIXTURES } from '../helpers/run-app.mjs';
import { metricValue, parseMetrics } from '../helpers/prom-text.mjs';

const KOFFI2 = '2.16.3';

describe(`koffi ${KOFFI2}`, function () {
  this.timeout(180_000);
  let app;

  before(function () {
    app = mkdtempSync(join(tmpdir(), 'sspi-agent-koffi2-'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'koffi2-app', version: '1.0.0', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `koffi@${KOFFI2}`], { cwd: app, stdio: 'ignore' });
    // The agent as a linked dependency: the app's koffi is 2, the agent is this checkout.
    symlinkSync(REPO, join(app, 'node_modules', 'sspi-agent'));
    for (const f of ['cjs-require.cjs', 'declaration-forms.mjs', 'handle-shapes.mjs', 'negotiate-handshake.cjs']) copyFileSync(join(FIXTURES, f), join(app, f));
  });

  after(function () {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('instruments require("koffi") and reports the leaks', async function () {
    const run = await runApp(join(app, 'cjs-require.cjs'), { cwd: app });
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.report.total, 2, explain(run));
  });

  it('tracks every declaration form and .async', async function () {
    const run = await runApp(join(app, 'declaration-forms.mjs'), { cwd: app });
    assert.equal(run.code, 0, explain(run));
    const tracked = run.results.filter((r) => r.liveAfterAcquire === 1 && r.liveAfterFree === 0).map((r) => r.form);
    assert.equal(tracked.length, 7, explain(run));
  });

  it('reads handles in every shape, External pointers included', async function () {
    const run = await runApp(join(app, 'handle-shapes.mjs'), { cwd: app });
    assert.equal(run.code, 0, explain(run));
    const shapes = run.results.filter((r) => r.shape);
    assert.equal(shapes.length, 7);
    for (const r of shapes) assert.deepEqual([r.liveAfterAcquire, r.liveAfterFree], [1, 0], r.shape);
  });

  // The token's bytes sit behind the pvBuffer address the app wrote into its SecBuffer: a BigInt,
  // which koffi 2's decode does not take (it wants an External).
  it('reads Negotiate tokens: WinPR\'s Negotiate is counted as NTLM', async function () {
    const run = await runApp(join(app, 'negotiate-handshake.cjs'), { cwd: app, args: [FIXTURES, '2'] });
    assert.equal(run.code, 0, explain(run));
    const [result] = run.results;
    assert.deepEqual(result.statuses, [[0, 0], [0, 0]], explain(run));
    const samples = parseMetrics(result.metrics);
    const why = `${result.metrics.split('\n').filter((l) => /^sspi_(negotiations|agent_errors)/.test(l)).join('\n')}\n--- stderr\n${run.stderr}`;
    assert.equal(metricValue(samples, 'sspi_negotiations_total', { package: 'Negotiate', negotiated: 'NTLM' }), 4, why);
    assert.equal(metricValue(samples, 'sspi_negotiations_total', { negotiated: 'unknown' }), 0, why);
    assert.equal(metricValue(samples, 'sspi_agent_errors_total', { where: 'hook.token' }), 0, why);
  });
});
