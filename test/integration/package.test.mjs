// The package as users get it: packed, installed from the tarball into a new app, preloaded there.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runApp, explain, REPO } from '../helpers/run-app.mjs';

const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('packaged agent', function () {
  this.timeout(180_000);
  let dir;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'sspi-agent-pack-'));
    const koffiVersion = JSON.parse(readFileSync(join(REPO, 'node_modules', 'koffi', 'package.json'), 'utf8')).version;
    npm(['pack', '--pack-destination', dir, '--silent'], REPO);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote no tarball');
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'leaky-app', version: '1.0.0', private: true, type: 'module' }));
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball), `koffi@${koffiVersion}`], app);
    writeFileSync(
      join(app, 'app.mjs'),
      [
        "import koffi from 'koffi';",
        "const lib = koffi.load('libwinpr2.so.2');",
        "koffi.struct('CredHandle', { dwLower: 'uintptr_t', dwUpper: 'uintptr_t' });",
        "const acquire = lib.func('int32 __stdcall AcquireCredentialsHandleW(const char16_t *a, const char16_t *pkg, uint32 use, void *b, void *c, void *d, void *e, _Out_ CredHandle *out, void *f)');",
        'const forgotten = {};',
        "acquire(null, 'Kerberos', 2, null, null, null, null, forgotten, null);",
        '',
      ].join('\n'),
    );
  });

  after(function () {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships only what it needs', function () {
    const files = JSON.parse(npm(['pack', '--dry-run', '--json'], REPO))[0].files.map((f) => f.path);
    assert.ok(files.includes('dist/index.js') && files.includes('dist/api.js') && files.includes('dist/hooks/esm-loader.js'));
    // The README's links lead into docs/: they resolve in node_modules/sspi-agent too.
    assert.ok(files.includes('README.md') && files.includes('docs/architecture.md'), files.join(', '));
    assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('examples/')), files.join(', '));
  });

  it('runs with node --import sspi-agent in an app that installed the tarball', async function () {
    const run = await runApp(join(dir, 'app', 'app.mjs'), { cwd: join(dir, 'app') });
    assert.equal(run.code, 0, explain(run));
    assert.match(run.stderr, /1 SSPI handle still live at exit/);
    assert.match(run.stderr, /Leak of 1 credential \[Kerberos, outbound\] created by AcquireCredentialsHandleW/);
    assert.match(run.stderr, /app\/app\.mjs:6:\d+/);
    assert.equal(run.report.total, 1);
  });
});
