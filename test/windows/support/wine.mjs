// Runs an app the way a Windows user runs it — `node.exe --import sspi-agent <app>` — on Windows'
// own Node.js under Wine, against Wine's secur32.dll. Set up by scripts/windows-lane.sh, which says
// where everything is through WINE_LANE_* variables; the apps run from the lane's stage, a copy of
// this repository's dist/, test/ and examples/ with Windows builds of koffi and node-expose-sspi.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { explain, jsonLines } from '../../helpers/run-app.mjs';

const VARIABLES = [
  'WINE_LANE_WINE',
  'WINE_LANE_NODES',
  'WINE_LANE_PREFIX',
  'WINE_LANE_STAGE',
  'WINE_LANE_BIN',
  'WINE_LANE_TMP',
  'WINE_LANE_KRB5_CONFIG',
  'WINE_LANE_KRB5_CONFIG_NO_KDC',
  'WINE_LANE_KEYTAB',
  'WINE_LANE_KEYTAB_OTHER',
];

/** The node.exe builds the lane runs every suite on (WINE_LANE_NODES: `<version>=<path>;…`). */
function nodeBuilds() {
  return (process.env.WINE_LANE_NODES ?? '')
    .split(';')
    .filter(Boolean)
    .map((pair) => {
      const [version, path] = pair.split('=');
      return { version, path };
    });
}

/** The build the running suite is on: set by describeOnEachNode for the suite's duration. */
let current;
const elapsed = new Map();

/**
 * Defines the suite once per node.exe build, each titled with its version. Outside the lane it
 * defines one test that fails with the reason (a Windows test never skips).
 */
export function describeOnEachNode(title, body) {
  const builds = nodeBuilds();
  if (builds.length === 0) {
    describe(title, () => it('runs only in the Windows lane', () => lane()));
    return;
  }
  for (const build of builds) {
    describe(`${title} (node.exe ${build.version} under Wine)`, function () {
      let started;
      before(function () {
        lane();
        current = build;
        started = Date.now();
      });
      after(function () {
        current = undefined;
        elapsed.set(build.version, (elapsed.get(build.version) ?? 0) + (Date.now() - started));
      });
      body(build);
    });
  }
}

// The time each build took, all suites together: the lane's cost per build.
after(function () {
  for (const [version, ms] of elapsed) console.log(`  node.exe ${version}: ${(ms / 1000).toFixed(1)} s`);
});

/** The lane's settings; throws (so the suite fails, never skips) when not run by the lane. */
export function lane() {
  const missing = VARIABLES.filter((name) => !process.env[name]);
  if (missing.length > 0) throw new Error(`not set up by scripts/windows-lane.sh (missing ${missing.join(', ')}): run \`npm run test:windows\``);
  return {
    wine: process.env.WINE_LANE_WINE,
    node: current?.path,
    prefix: process.env.WINE_LANE_PREFIX,
    stage: process.env.WINE_LANE_STAGE,
    bin: process.env.WINE_LANE_BIN,
    tmp: process.env.WINE_LANE_TMP,
    user: { user: process.env.SSPI_TEST_USER, domain: process.env.SSPI_TEST_DOMAIN, password: process.env.SSPI_TEST_PASSWORD },
    kerberos: {
      config: process.env.WINE_LANE_KRB5_CONFIG,
      configWithoutKdc: process.env.WINE_LANE_KRB5_CONFIG_NO_KDC,
      keytab: process.env.WINE_LANE_KEYTAB,
      keytabWithoutService: process.env.WINE_LANE_KEYTAB_OTHER,
    },
  };
}

/** `/tmp/x/y.mjs` as Wine's node.exe sees it: `Z:\tmp\x\y.mjs` (Wine maps drive Z: to `/`). */
export function windowsPath(path) {
  return 'Z:' + path.replace(/\//g, '\\');
}

/** `app` as node.exe's argument: a path under the stage's test/fixtures, or an absolute one. */
function appPath(l, app) {
  return windowsPath(app.startsWith('/') ? app : join(l.stage, 'test', 'fixtures', app));
}

/** Files for one run's stdout, stderr and JSON report, in a dir of its own under the lane's tmp. */
function runFiles(l) {
  const dir = mkdtempSync(join(l.tmp, 'run-'));
  return { dir, reportFile: join(dir, 'report.json'), outFile: join(dir, 'stdout.txt'), errFile: join(dir, 'stderr.txt') };
}

/** Starts `wine <argv>` with the lane's environment plus `env`, stdout and stderr into the run's files. */
function spawnWine(l, argv, files, env) {
  const out = openSync(files.outFile, 'w');
  const err = openSync(files.errFile, 'w');
  const { DISPLAY, ...rest } = process.env;
  const child = spawn(l.wine, argv, {
    cwd: l.stage,
    env: {
      ...rest,
      WINEPREFIX: l.prefix,
      // Wine writes menus and caches under HOME: the lane gives it a throwaway one.
      ...(process.env.WINE_LANE_HOME ? { HOME: process.env.WINE_LANE_HOME } : {}),
      WINEDEBUG: '-all',
      WINEDLLOVERRIDES: 'winemenubuilder.exe=d;mscoree=d;mshtml=d',
      // Wine's NTLM runs `ntlm_auth` from PATH: the lane's wrapper points it at the lane's winbindd.
      PATH: `${l.bin}:${process.env.PATH}`,
      // Wine's Kerberos reads MIT's variables: the lane's realm and KDC, the service's keytab, and
      // tickets in memory only (with an explicit identity Wine logs in and stores what it got).
      ...(process.env.WINE_LANE_KRB5_CONFIG
        ? {
            KRB5_CONFIG: process.env.WINE_LANE_KRB5_CONFIG,
            KRB5_KTNAME: `FILE:${process.env.WINE_LANE_KEYTAB}`,
            KRB5CCNAME: 'MEMORY:app',
            // The acceptor's replay cache, which MIT keeps in /var/tmp by default: the lane's own dir.
            KRB5RCACHEDIR: dirname(process.env.WINE_LANE_KRB5_CONFIG),
          }
        : {}),
      SSPI_AGENT_METRICS_PORT: '0',
      SSPI_TEST_WINE: '1',
      SSPI_AGENT_REPORT_FILE: windowsPath(files.reportFile),
      ...env,
    },
    stdio: ['ignore', out, err],
  });
  closeSync(out);
  closeSync(err);
  return child;
}

/** What a run left in its files, in the shape of test/helpers/run-app.mjs; removes them. */
function collectRun(files, code, signal) {
  const stdout = readFileSync(files.outFile, 'utf8').replace(/\r\n/g, '\n');
  const stderr = readFileSync(files.errFile, 'utf8').replace(/\r\n/g, '\n');
  const report = existsSync(files.reportFile) ? JSON.parse(readFileSync(files.reportFile, 'utf8')) : undefined;
  rmSync(files.dir, { recursive: true, force: true });
  return { code, signal, stdout, stderr, report, results: jsonLines(stdout) };
}

function nodeArgv(l, app, { agent, nodeArgs, args }) {
  if (!l.node) throw new Error('a Wine app outside a describeOnEachNode suite: which node.exe?');
  return [l.node, ...(agent ? ['--import', 'sspi-agent'] : []), ...nodeArgs, appPath(l, app), ...args];
}

/**
 * Runs `app` (a path under the stage's test/fixtures, or absolute) under the agent in node.exe and
 * collects what it printed, its exit code and the JSON report, in the shape of
 * test/helpers/run-app.mjs. Windows' node.exe under Wine crashes (`Error: open EBADF`) when its stdout
 * is a Unix pipe, so stdout and stderr go to files.
 */
export function runWineApp(app, { env = {}, args = [], agent = true, nodeArgs = [], timeoutMs = 60_000 } = {}) {
  const l = lane();
  const argv = nodeArgv(l, app, { agent, nodeArgs, args });
  const files = runFiles(l);
  return new Promise((resolve, reject) => {
    const child = spawnWine(l, argv, files, env);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(collectRun(files, code, signal));
    });
  });
}

/**
 * Starts a long-running `app` (a server) like runWineApp and hands it back while it runs:
 * `output(pattern, timeoutMs)` resolves with the first match of `pattern` in its stdout,
 * `interrupt()` sends SIGINT, which Wine turns into a console Ctrl+C (node.exe: SIGINT), and
 * resolves with the run once it exited; `kill()` ends it at once (a test's cleanup: each live NTLM
 * context of a node.exe keeps an `ntlm_auth` process of Wine's). The run is also in `exited`.
 */
export function startWineApp(app, { env = {}, args = [], agent = true, nodeArgs = [] } = {}) {
  const l = lane();
  const argv = nodeArgv(l, app, { agent, nodeArgs, args });
  const files = runFiles(l);
  const child = spawnWine(l, argv, files, env);
  const exited = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(collectRun(files, code, signal)));
  });
  const running = () => child.exitCode === null && child.signalCode === null;

  async function output(pattern, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = running() && existsSync(files.outFile) ? pattern.exec(readFileSync(files.outFile, 'utf8')) : null;
      if (match) return match;
      if (!running()) throw new Error(`the app exited before printing ${pattern}:\n${explain(await exited)}`);
      if (Date.now() > deadline) throw new Error(`the app did not print ${pattern} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function interrupt(timeoutMs = 30_000) {
    if (running()) child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const run = await exited;
    clearTimeout(timer);
    return run;
  }

  function kill() {
    if (running()) child.kill('SIGKILL');
    return exited;
  }

  return { pid: child.pid, output, interrupt, kill, exited };
}

export { explain };
