// The package as users get it: the `npm pack` tarball, checked for every file it must hold, then
// installed into scratch apps outside the repository (test/helpers/packed-apps.mjs) — koffi 3 with
// and without OpenTelemetry, koffi 2, OpenTelemetry JS 2.x and 3.x — each run as
// `node --import sspi-agent` on a leaking app, and a TypeScript app compiled against its types.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { explain, FIXTURES, REPO, runApp } from '../helpers/run-app.mjs';
import { metricValue, parseMetrics } from '../helpers/prom-text.mjs';
import { startReceiver } from '../helpers/otlp-receiver.mjs';
import { installedApp, packCurrentBuild, withAppFiles } from '../helpers/packed-apps.mjs';
import { filesUnder, unmetNeeds } from '../helpers/tarball-needs.mjs';
import { freePort } from '../../examples/lib/free-port.mjs';
import { SETTINGS } from '../../dist/config.js';

const INSTALL_TIMEOUT = 300_000;

describe('the packed tarball (npm pack)', function () {
  this.timeout(INSTALL_TIMEOUT);
  let pack;
  let manifest;
  let files;

  before(function () {
    pack = packCurrentBuild();
    manifest = JSON.parse(readFileSync(join(pack.unpacked, 'package.json'), 'utf8'));
    files = filesUnder(pack.unpacked);
  });

  it('ships only what it needs', function () {
    assert.ok(files.includes('dist/index.js') && files.includes('dist/api.js') && files.includes('dist/hooks/esm-loader.js'));
    assert.ok(files.includes('README.md') && files.includes('docs/architecture.md'), files.join(', '));
    assert.ok(!files.some((f) => /^(test|src|examples|bench|scripts|node_modules)\//.test(f)), files.join(', '));
  });

  it('holds every file its modules and declarations import, and every exports, bin and types target', function () {
    assert.deepEqual(unmetNeeds(pack.unpacked, manifest), []);
  });

  it('ships its bin as a node script (npm makes it executable on install)', function () {
    for (const target of Object.values(manifest.bin)) assert.match(readFileSync(join(pack.unpacked, target), 'utf8'), /^#!\/usr\/bin\/env node\n/, target);
  });

  it('holds the files the README links to (its links work in node_modules/sspi-agent)', function () {
    const readme = readFileSync(join(pack.unpacked, 'README.md'), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
    const targets = [...readme.matchAll(/\]\(([^)\s#]+)(?:#[^)\s]*)?\)/g)].map(([, t]) => t).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
    assert.ok(targets.length > 5, targets.join(', '));
    assert.deepEqual(targets.filter((t) => !existsSync(join(pack.unpacked, t))), []);
  });

  it('finds what a tarball lacks (the check itself can fail)', function () {
    const copy = mkdtempSync(join(tmpdir(), 'sspi-agent-unpacked-'));
    try {
      cpSync(pack.unpacked, copy, { recursive: true });
      rmSync(join(copy, 'dist', 'hooks', 'esm-loader.js'), { force: true });
      const broken = { ...manifest, exports: { '.': { types: './dist/nowhere.d.ts', default: './dist/index.js' } }, bin: { x: 'dist/cli/gone.js' } };
      broken.dependencies = { ...manifest.dependencies };
      delete broken.dependencies['prom-client'];
      const unmet = unmetNeeds(copy, broken);
      for (const expected of [
        /^dist\/agent\.js: \.\/hooks\/esm-loader\.js \(not in the tarball\)$/,
        /^dist\/api\.d\.ts: prom-client \(not a dependency or peer dependency\)$/,
        /^package\.json: \.\/dist\/nowhere\.d\.ts \(not in the tarball\)$/,
        /^package\.json: dist\/cli\/gone\.js \(not in the tarball\)$/,
      ]) {
        assert.ok(unmet.some((u) => expected.test(u)), `${expected} in\n${unmet.join('\n')}`);
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

/** The app variants: which install, which app file, what else the run gets. */
const VARIANTS = [
  { title: 'koffi 3, an app without OpenTelemetry', install: 'koffi3', app: 'plain-app.mjs', otel: 'none' },
  { title: "koffi 3, the agent's own OpenTelemetry SDK (OTEL_* variables)", install: 'koffi3', app: 'plain-app.mjs', otel: 'agent' },
  { title: 'koffi 2 (CommonJS)', install: 'koffi2', app: 'plain-app.cjs', otel: 'none' },
  { title: 'OpenTelemetry JS 2.x (@opentelemetry/api 1.9)', install: 'otel2x', app: 'sdk-2x-app.mjs', otel: 'app', api: /^1\.9\./, sdkNode: /^0\.2\d\d\./ },
  { title: 'OpenTelemetry JS 3.x (@opentelemetry/api 1.10)', install: 'otel3x', app: 'sdk-3x-app.mjs', otel: 'app', api: /^1\.10\./, sdkNode: /^0\.3\d\d\./ },
];

/** Runs an installed app's file under `node --import sspi-agent`, every loaded file recorded. */
async function runInstalled(runDir, file, env = {}) {
  const port = await freePort();
  const run = await runApp(join(runDir, file), {
    cwd: runDir,
    agent: false,
    nodeArgs: ['--import', pathToFileURL(join(runDir, 'confined.mjs')).href, '--import', 'sspi-agent'],
    // Nothing but the app's own node_modules may serve a module.
    env: { NODE_PATH: undefined, NODE_OPTIONS: undefined, SSPI_AGENT_METRICS_PORT: String(port), ...env },
  });
  return { ...run, out: Object.assign({}, ...run.results) };
}

for (const variant of VARIANTS) {
  describe(`an app that installed the tarball: ${variant.title}`, function () {
    this.timeout(INSTALL_TIMEOUT);
    let app;
    let runDir;
    let run;
    let receiver;

    before(async function () {
      app = installedApp(packCurrentBuild(), variant.install);
      runDir = withAppFiles(app);
      receiver = variant.otel === 'agent' ? await startReceiver() : undefined;
      const otelEnv = receiver
        ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' }
        : {};
      run = await runInstalled(runDir, variant.app, otelEnv);
      assert.equal(run.code, 0, explain(run));
    });

    after(async function () {
      await receiver?.close();
      if (runDir) rmSync(runDir, { recursive: true, force: true });
    });

    // A node_modules above the app (in the temp dir, say) would serve what the app's own lacks: the
    // files the process loaded show that none came from outside the app.
    it('runs the agent from its own node_modules, and loads no file from outside the app', function () {
      const agent = run.out.agent.startsWith('file:') ? fileURLToPath(run.out.agent) : run.out.agent;
      assert.equal(relative(join(app, 'node_modules', 'sspi-agent'), agent).split(sep)[0], 'dist', agent);
      const loaded = run.out.loaded.map((url) => fileURLToPath(url));
      assert.ok(loaded.some((f) => f.includes(`${sep}node_modules${sep}sspi-agent${sep}dist${sep}`)), explain(run));
      assert.deepEqual(loaded.filter((f) => !f.startsWith(app + sep)), []);
    });

    it('prints the exit report of the 2 leaked credentials, with the app’s allocation site', function () {
      assert.match(run.stderr, /2 SSPI handles still live at exit \(2 credentials, 0 contexts\)/, explain(run));
      assert.match(run.stderr, /Leak of 2 credentials \[NTLM, outbound\] created by AcquireCredentialsHandleW \(libwinpr2\.so\.2\)/);
      assert.match(run.stderr, /at leakTwoCredentials \(.*[\\/]sspi\.cjs:\d+:\d+\)/);
      assert.equal(run.report?.total, 2, explain(run));
    });

    it('serves the live, opened and closed handles and the calls on /metrics', function () {
      const samples = parseMetrics(run.out.metrics);
      assert.equal(metricValue(samples, 'sspi_handles_live', { kind: 'credential', package: 'NTLM', direction: 'outbound' }), 2);
      assert.equal(metricValue(samples, 'sspi_handles_opened_total', { kind: 'credential', package: 'NTLM' }), 3);
      assert.equal(metricValue(samples, 'sspi_handles_closed_total', { kind: 'credential', package: 'NTLM' }), 1);
      assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'AcquireCredentialsHandleW', status: 'SEC_E_OK' }), 3);
      assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'FreeCredentialsHandle', status: 'SEC_E_OK' }), 1);
    });

    if (variant.otel === 'none') {
      it('starts no OpenTelemetry SDK, and says nothing about OpenTelemetry nor of an internal error', function () {
        assert.deepEqual(run.out.loaded.filter((url) => url.includes('/@opentelemetry/sdk-')), []);
        assert.doesNotMatch(run.stderr, /opentelemetry|otel|internal error|failed to start/i);
      });
    }

    if (variant.otel === 'agent') {
      it("exports the call and leak spans through the SDK the agent starts from its own dependencies", function () {
        const spans = receiver.spans().filter((s) => s.scope === 'sspi-agent');
        assert.equal(spans.filter((s) => s.name === 'AcquireCredentialsHandleW').length, 3, explain(run));
        assert.equal(spans.filter((s) => s.name === 'sspi.leak').length, 2, explain(run));
        assert.doesNotMatch(run.stderr, /internal error|failed to start/i);
      });
    }

    if (variant.otel === 'app') {
      it("runs on that line: the API and sdk-node as the app resolves them", function () {
        assert.match(run.out.versions.api, variant.api);
        assert.match(run.out.versions.sdkNode, variant.sdkNode);
      });

      it("gives the app's SDK a call span per acquire under the app's request span, and a leak span per leaked credential linked to it", function () {
        const spans = run.out.spans.filter((s) => s.scope === 'sspi-agent');
        const calls = spans.filter((s) => s.name === 'AcquireCredentialsHandleW');
        assert.equal(calls.length, 3, explain(run));
        for (const call of calls) assert.equal(call.parentSpanId, run.out.request.spanId);
        const leaks = spans.filter((s) => s.name === 'sspi.leak');
        assert.equal(leaks.length, 2, explain(run));
        for (const leak of leaks) assert.ok(calls.some((c) => leak.links.includes(c.spanId)), JSON.stringify(leak));
        assert.doesNotMatch(run.stderr, /opentelemetry|internal error|failed to start/i);
      });
    }
  });
}

describe('a TypeScript app that installed the tarball (tsc --noEmit)', function () {
  this.timeout(INSTALL_TIMEOUT);
  const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const TS_LIB = realpathSync(join(REPO, 'node_modules', 'typescript', 'lib')) + sep;
  let app;
  let dir;

  /**
   * Compiles the consumer; every file tsc read must be the app's own, or TypeScript's lib files.
   * Incremental: the Node.js lines after the first recheck only what changed (nothing, as a rule).
   */
  function compiles(mode) {
    const args = [TSC, '-p', `tsconfig.${mode}.json`, '--incremental', '--tsBuildInfoFile', `${mode}.tsbuildinfo`, '--listFiles'];
    const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    const read = r.stdout.trim().split('\n');
    assert.ok(read.some((f) => f.startsWith(join(app, 'node_modules', 'sspi-agent', 'dist') + sep)), r.stdout);
    assert.deepEqual(read.filter((f) => !f.startsWith(app + sep) && !f.startsWith(TS_LIB)), []);
  }

  before(function () {
    app = installedApp(packCurrentBuild(), 'koffi3');
    dir = join(app, 'typescript');
    cpSync(join(FIXTURES, 'packed', 'typescript'), dir, { recursive: true });
  });

  it('compiles against sspi-agent and sspi-agent/api under module nodenext', function () {
    compiles('nodenext');
  });

  it('compiles against sspi-agent and sspi-agent/api under module preserve, moduleResolution bundler', function () {
    compiles('bundler');
  });
});

describe("the README's commands in an app that installed the tarball", function () {
  this.timeout(INSTALL_TIMEOUT);
  let runDir;
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const command = (pattern) => {
    const found = pattern.exec(readme);
    assert.ok(found, `the README has no command ${pattern}`);
    return found[0];
  };

  before(function () {
    runDir = withAppFiles(installedApp(packCurrentBuild(), 'koffi3'));
  });

  after(function () {
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  });

  it("`curl -s 127.0.0.1:9469/metrics | grep '^sspi_'` lists the sspi_* series of an app started with --import sspi-agent", async function () {
    const curl = command(/curl -s 127\.0\.0\.1:9469\/metrics \| grep '\^sspi_'/);
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'sspi-agent', 'plain-app.mjs', '--stay'], {
      cwd: runDir,
      env: { ...process.env, NODE_PATH: '', WLOG_LEVEL: 'OFF', SSPI_AGENT_METRICS_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const closed = once(child, 'close');
    const ready = new Promise((resolve) => child.stdout.on('data', (d) => (stdout += d).includes('"ready"') && resolve(true)));
    try {
      assert.ok(await Promise.race([ready, closed.then(() => false)]), `the app ended before it was ready: ${stderr}`);
      // The README's command, at the port this app serves on: 9469 is the default.
      assert.equal(SETTINGS.metricsPort.default, 9469);
      const lines = execFileSync('bash', ['-c', curl.replace(':9469', `:${port}`)], { encoding: 'utf8' }).trim().split('\n');
      assert.ok(lines.every((l) => l.startsWith('sspi_')), lines.join('\n'));
      assert.ok(lines.includes('sspi_handles_live{kind="credential",package="NTLM",direction="outbound"} 2'), lines.join('\n'));
    } finally {
      child.kill('SIGTERM');
      await closed;
    }
    assert.match(stderr, /2 SSPI handles still live at SIGTERM/);
  });

  it('`npx sspi-agent report a.json b.json` and `npx sspi-agent baseline a.json b.json` run the installed bin', async function () {
    for (const name of ['a.json', 'b.json']) {
      const run = await runInstalled(runDir, 'plain-app.mjs', { SSPI_AGENT_REPORT_FILE: join(runDir, name) });
      assert.equal(run.code, 0, explain(run));
    }
    const npx = (args) => execFileSync('npx', args, { cwd: runDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_PATH: '' } });
    // `--no`: never fetch a package of that name from the registry; the app's own bin or a failure.
    const args = (pattern) => ['--no', ...command(pattern).split(' ').slice(1)];
    const report = npx(args(/npx sspi-agent report a\.json b\.json/));
    assert.match(report, /^sspi-agent: 4 SSPI handles leaked in 2 reports \(4 credentials, 0 contexts\), 1 allocation site\n/);
    assert.match(report, /4 credentials \[NTLM, outbound\] created by AcquireCredentialsHandleW.*in 2 of 2 processes/);
    const baseline = npx(args(/npx sspi-agent baseline a\.json b\.json/));
    assert.match(baseline, /^leak:.*sspi\.cjs:\d+/m);
  });
});
