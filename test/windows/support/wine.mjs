// Runs an app the way a Windows user runs it — `node.exe --import sspi-agent <app>` — on Windows'
// own Node.js under Wine, against Wine's secur32.dll. Set up by scripts/windows-lane.sh, which says
// where everything is through WINE_LANE_* variables; the apps run from the lane's stage, a copy of
// this repository's dist/, test/ and examples/ with Windows builds of koffi and node-expose-sspi.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { jsonLines } from '../../helpers/run-app.mjs';

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

/**
 * Runs `app` (a path under the stage's test/fixtures) under the agent in node.exe and collects what
 * it printed, its exit code and the JSON report, in the shape of test/helpers/run-app.mjs. Windows'
 * node.exe under Wine crashes (`Error: open EBADF`) when its stdout is a Unix pipe, so stdout and
 * stderr go to files.
 */
export function runWineApp(app, { env = {}, args = [], agent = true, nodeArgs = [], timeoutMs = 60_000 } = {}) {
  const l = lane();
  if (!l.node) throw new Error('runWineApp outside a describeOnEachNode suite: which node.exe?');
  const dir = mkdtempSync(join(l.tmp, 'run-'));
  const reportFile = join(dir, 'report.json');
  const outFile = join(dir, 'stdout.txt');
  const errFile = join(dir, 'stderr.txt');
  const appPath = windowsPath(app.startsWith('/') ? app : join(l.stage, 'test', 'fixtures', app));
  const argv = [l.node, ...(agent ? ['--import', 'sspi-agent'] : []), ...nodeArgs, appPath, ...args];
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  const { DISPLAY, ...rest } = process.env;
  return new Promise((resolve, reject) => {
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
        SSPI_AGENT_REPORT_FILE: windowsPath(reportFile),
        ...env,
      },
      stdio: ['ignore', out, err],
    });
    closeSync(out);
    closeSync(err);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = readFileSync(outFile, 'utf8').replace(/\r\n/g, '\n');
      const stderr = readFileSync(errFile, 'utf8').replace(/\r\n/g, '\n');
      const report = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, 'utf8')) : undefined;
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr, report, results: jsonLines(stdout) });
    });
  });
}

export { explain } from '../../helpers/run-app.mjs';
