// The start code's V8 code cache (src/start-code/): made at a first start, used at the next, and
// never a reason for the agent to run differently or the app to fail.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runApp, explain, REPO } from '../helpers/run-app.mjs';

/** leaky-app.mjs leaks 2 credentials and 3 contexts: the agent saw every call. */
const LEAKS = 5;
/** The file's header: its tag and the cache's length (src/start-code/cache-file.ts). */
const HEADER = 12;

describe('the start code\'s code cache', function () {
  let dir;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'sspi-agent-code-cache-test-'));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  const caches = (where = dir) => readdirSync(where).filter((name) => name.endsWith('.v8cache'));
  const start = (env = {}, app = 'leaky-app.mjs', args = [], nodeArgs = []) =>
    runApp(app, { args, nodeArgs, env: { SSPI_AGENT_CODE_CACHE: dir, SSPI_AGENT_DEBUG: '1', ...env } });
  const works = (run) => {
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.report.total, LEAKS, explain(run));
  };
  const COMPILED = /start code compiled \(no cache to use\); its cache is written to /;
  const FROM_CACHE = /start code run from its cache /;

  it('is made at the first start and run from at the next, the agent the same both times', async function () {
    const first = await start();
    works(first);
    assert.match(first.stderr, COMPILED, explain(first));
    assert.deepEqual(caches().map((name) => name.startsWith('sspi-agent-')), [true], explain(first));
    const second = await start();
    works(second);
    assert.match(second.stderr, FROM_CACHE, explain(second));
    // The same findings, with the same app frames: the agent's own frames are told apart as before.
    const findings = (run) => run.report.groups.map((g) => [g.kind, g.createdBy, g.count, g.stack]);
    assert.deepEqual(findings(second), findings(first));
    assert.ok(first.report.groups.every((g) => g.stack.length > 0 && !g.stack.some((f) => f.includes('/dist/'))), explain(first));
  });

  const damages = [
    ['holds other bytes', (bytes) => Buffer.alloc(bytes.length, 7)],
    ['was cut short', (bytes) => bytes.subarray(0, 1000)],
    ['has one byte changed in the middle of the cache', (bytes) => {
      const changed = Buffer.from(bytes);
      changed[HEADER + 5000] ^= 0x10;
      return changed;
    }],
  ];
  for (const [what, damage] of damages) {
    it(`is compiled past when the file ${what}, and the file made anew`, async function () {
      works(await start());
      const file = join(dir, caches()[0]);
      const damaged = damage(readFileSync(file));
      writeFileSync(file, damaged);
      const run = await start();
      works(run);
      assert.match(run.stderr, /start code cache damaged: /, explain(run));
      assert.match(run.stderr, COMPILED, explain(run));
      assert.notDeepEqual(readFileSync(file), damaged);
      assert.match((await start()).stderr, FROM_CACHE);
    });
  }

  it('is compiled past when V8 rejects an intact file, and the file made anew', async function () {
    works(await start());
    const file = join(dir, caches()[0]);
    const bytes = readFileSync(file);
    const length = bytes.readUInt32LE(8);
    const garbage = Buffer.alloc(length, 0x5a);
    writeFileSync(file, Buffer.concat([bytes.subarray(0, HEADER), garbage, garbage]));
    const run = await start();
    works(run);
    assert.match(run.stderr, /start code compiled \(V8 rejected its cache\)/, explain(run));
    assert.match((await start()).stderr, FROM_CACHE);
  });

  it('is kept apart for processes started with other V8 flags, which would reject each other\'s', async function () {
    works(await start());
    const flagged = await start({}, 'leaky-app.mjs', [], ['--stack-size=2000']);
    works(flagged);
    assert.match(flagged.stderr, COMPILED, explain(flagged));
    assert.equal(caches().length, 2);
    assert.match((await start()).stderr, FROM_CACHE);
    assert.match((await start({}, 'leaky-app.mjs', [], ['--stack-size=2000'])).stderr, FROM_CACHE);
  });

  it('reads no file that others can write to', async function () {
    works(await start());
    chmodSync(join(dir, caches()[0]), 0o666);
    const run = await start();
    works(run);
    assert.match(run.stderr, /start code cache not read: .* can be written by others \(mode 666\)/, explain(run));
    assert.match(run.stderr, COMPILED, explain(run));
  });

  for (const [what, make, why] of [
    ['that others can write to', (path) => { mkdirSync(path); chmodSync(path, 0o777); }, /can be written by others \(mode 777\)/],
    ['behind a symbolic link', (path) => symlinkSync(dir, path), /is a symbolic link/],
  ]) {
    it(`warns about a directory ${what} and keeps to its default directory`, async function () {
      const given = join(dir, 'given');
      make(given);
      const run = await start({ SSPI_AGENT_CODE_CACHE: given });
      works(run);
      assert.match(run.stderr, /SSPI_AGENT_CODE_CACHE=.* is not used: /, explain(run));
      assert.match(run.stderr, why, explain(run));
      assert.match(run.stderr, /its cache is written to .*sspi-agent-code-cache-\w+\//, explain(run));
      assert.deepEqual(caches(), [], 'nothing written through the unsafe path');
    });
  }

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
    assert.match(run.stderr, /its cache is written to .*sspi-agent-code-cache-\w+\//, explain(run));
    assert.deepEqual(readdirSync(cwd), []);
  });

  it('keeps the 32 newest of its own caches, and clears what writers that ended midway left', async function () {
    const old = Date.now() / 1000 - 86_400;
    const file = (name, age) => {
      writeFileSync(join(dir, name), 'x');
      utimesSync(join(dir, name), age, age);
    };
    for (let i = 0; i < 40; i++) file(`sspi-agent-older-${i}.v8cache`, old + i);
    file('another-tool.v8cache', old);
    file('sspi-agent-older-0.v8cache.1.0.partial', old);
    file('sspi-agent-now.v8cache.2.0.partial', Date.now() / 1000);
    const run = await start();
    works(run);
    const ours = caches().filter((name) => name.startsWith('sspi-agent-'));
    assert.equal(ours.length, 32, explain(run));
    assert.ok(!ours.includes('sspi-agent-older-8.v8cache') && ours.includes('sspi-agent-older-9.v8cache'), ours.join(' '));
    assert.equal(ours.filter((name) => !name.startsWith('sspi-agent-older-')).length, 1, 'the new cache is among them');
    const left = readdirSync(dir);
    assert.ok(left.includes('another-tool.v8cache'), 'another tool\'s file is left alone');
    assert.ok(!left.includes('sspi-agent-older-0.v8cache.1.0.partial') && left.includes('sspi-agent-now.v8cache.2.0.partial'), left.join(' '));
  });

  it('is written by a process still running, two seconds after its start', async function () {
    const run = await start({}, 'startup/list-later.mjs', ['3000', dir]);
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.results[0].files.filter((name) => name.endsWith('.v8cache')).length, 1, explain(run));
  });
});
