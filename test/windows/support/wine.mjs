// Runs an app the way a Windows user runs it — `node.exe --import sspi-agent <app>` — on Windows'
// own Node.js under Wine, against Wine's secur32.dll. Set up by scripts/windows-lane.sh, which says
// where everything is through WINE_LANE_* variables; the apps run from the lane's stage, a copy of
// this repository's dist/, test/ and examples/ with Windows builds of koffi and node-expose-sspi.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { jsonLines } from '../../helpers/run-app.mjs';

const VARIABLES = ['WINE_LANE_WINE', 'WINE_LANE_NODE', 'WINE_LANE_PREFIX', 'WINE_LANE_STAGE', 'WINE_LANE_BIN', 'WINE_LANE_TMP'];

/** The lane's settings; throws (so the suite fails, never skips) when not run by the lane. */
export function lane() {
  const missing = VARIABLES.filter((name) => !process.env[name]);
  if (missing.length > 0) throw new Error(`not set up by scripts/windows-lane.sh (missing ${missing.join(', ')}): run \`npm run test:windows\``);
  return {
    wine: process.env.WINE_LANE_WINE,
    node: process.env.WINE_LANE_NODE,
    prefix: process.env.WINE_LANE_PREFIX,
    stage: process.env.WINE_LANE_STAGE,
    bin: process.env.WINE_LANE_BIN,
    tmp: process.env.WINE_LANE_TMP,
    user: { user: process.env.SSPI_TEST_USER, domain: process.env.SSPI_TEST_DOMAIN, password: process.env.SSPI_TEST_PASSWORD },
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
