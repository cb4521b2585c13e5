// The start code's V8 code cache (src/code-cache.ts): made at a first start, used at the next, and
// never a reason for the agent to run differently or the app to fail.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runApp, explain, REPO } from '../helpers/run-app.mjs';

/** leaky-app.mjs leaks 2 credentials and 3 contexts: the agent saw every call. */
const LEAKS = 5;

describe('the start code\'s code cache', function () {
  let dir;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'sspi-agent-code-cache-test-'));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  const caches = () => readdirSync(dir).filter((name) => name.endsWith('.v8cache'));
  const start = (env = {}, app = 'leaky-app.mjs', args = [], nodeArgs = []) =>
    runApp(app, { args, nodeArgs, env: { SSPI_AGENT_CODE_CACHE: dir, SSPI_AGENT_DEBUG: '1', ...env } });
  const works = (run) => {
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.report.total, LEAKS, explain(run));
  };

  it('is made at the first start and run from at the next, the agent the same both times', async function () {
    const first = await start();
    works(first);
    assert.match(first.stderr, /start code compiled \(no cache yet\); its cache is written to /, explain(first));
    assert.equal(caches().length, 1, explain(first));
    const second = await start();
    works(second);
    assert.match(second.stderr, /start code run from its cache /, explain(second));
    // The same findings, with the same app frames: the agent's own frames are told apart as before.
    const findings = (run) => run.report.groups.map((g) => [g.kind, g.createdBy, g.count, g.stack]);
    assert.deepEqual(findings(second), findings(first));
    assert.ok(first.report.groups.every((g) => g.stack.length > 0 && !g.stack.some((f) => f.includes('/dist/'))), explain(first));
  });

  for (const [what, damage] of [
    ['holds other bytes', (file) => writeFileSync(file, Buffer.alloc(readFileSync(file).length, 7))],
    ['was cut short', (file) => writeFileSync(file, readFileSync(file).subarray(0, 1000))],
  ]) {
    it(`is compiled as without one when the file ${what}, and the file is made anew`, async function () {
      works(await start());
      const file = join(dir, caches()[0]);
      damage(file);
      const damaged = readFileSync(file);
      const run = await start();
      works(run);
      assert.match(run.stderr, /start code compiled \(its cache was rejected\)/, explain(run));
      assert.notDeepEqual(readFileSync(file), damaged);
      assert.match((await start()).stderr, /start code run from its cache /);
    });
  }

  it('is kept apart for processes started with other V8 flags, which would reject each other\'s', async function () {
    works(await start());
    const flagged = await start({}, 'leaky-app.mjs', [], ['--stack-size=2000']);
    works(flagged);
    assert.match(flagged.stderr, /compiled \(no cache yet\)/, explain(flagged));
    assert.equal(caches().length, 2);
    assert.match((await start()).stderr, /start code run from its cache /);
    assert.match((await start({}, 'leaky-app.mjs', [], ['--stack-size=2000'])).stderr, /start code run from its cache /);
  });

  it('uses no directory that others can write to', async function () {
    chmodSync(dir, 0o777);
    const run = await start();
    works(run);
    assert.match(run.stderr, /compiled without a cache: .* can be written by others \(mode 777\)/, explain(run));
    assert.deepEqual(caches(), []);
  });

  it('is neither read nor written with SSPI_AGENT_CODE_CACHE=off', async function () {
    const run = await start({ SSPI_AGENT_CODE_CACHE: 'off' });
    works(run);
    assert.match(run.stderr, /compiled without a cache: SSPI_AGENT_CODE_CACHE=off/, explain(run));
    assert.doesNotMatch(run.stderr, /its cache is written/);
  });

  it('warns about a relative path and keeps to the default directory, creating nothing where the app runs', async function () {
    const cwd = join(dir, 'app');
    mkdirSync(cwd);
    // The package by its path: `--import sspi-agent` resolves from the working directory.
    const preload = pathToFileURL(join(REPO, 'dist', 'bundle', 'index.js')).href;
    const run = await runApp('leaky-app.mjs', { cwd, agent: false, nodeArgs: ['--import', preload], env: { SSPI_AGENT_CODE_CACHE: 'cache/here', SSPI_AGENT_DEBUG: '1' } });
    works(run);
    assert.match(run.stderr, /SSPI_AGENT_CODE_CACHE="cache\/here" is not valid/, explain(run));
    assert.match(run.stderr, /its cache is written to .*sspi-agent-code-cache-\d+\//, explain(run));
    assert.deepEqual(readdirSync(cwd), []);
  });

  it('keeps the 32 newest caches of its directory', async function () {
    const old = Date.now() / 1000 - 86_400;
    for (let i = 0; i < 40; i++) {
      const file = join(dir, `older-build-${i}.v8cache`);
      writeFileSync(file, 'x');
      utimesSync(file, old + i, old + i);
    }
    const run = await start();
    works(run);
    const kept = caches();
    assert.equal(kept.length, 32, explain(run));
    assert.ok(!kept.includes('older-build-8.v8cache') && kept.includes('older-build-9.v8cache'), kept.join(' '));
    assert.equal(kept.filter((name) => !name.startsWith('older-build-')).length, 1, 'the new cache is among them');
  });

  it('is written by a process still running, two seconds after its start', async function () {
    const run = await start({}, 'startup/list-later.mjs', ['3000', dir]);
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.results[0].files.filter((name) => name.endsWith('.v8cache')).length, 1, explain(run));
  });
});
