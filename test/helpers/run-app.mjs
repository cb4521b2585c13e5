// Runs an app the way users run it: `node --import sspi-agent <app>` in a child process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import './fresh-bundle.mjs';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(REPO, 'test', 'fixtures');

/**
 * Runs `app` (a path under test/fixtures, or absolute) under the agent and collects what it printed,
 * its exit, and the JSON report. `stdout` lines that parse as JSON are collected in `results`.
 */
export function runApp(app, { env = {}, args = [], agent = true, nodeArgs = [], cwd = REPO, timeoutMs = 50_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sspi-agent-test-'));
  const reportFile = join(dir, 'report.json');
  const appPath = app.startsWith('/') ? app : join(FIXTURES, app);
  const argv = [...(agent ? ['--import', 'sspi-agent'] : []), ...nodeArgs, appPath, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      cwd,
      env: {
        ...process.env,
        WLOG_LEVEL: 'OFF',
        SSPI_AGENT_METRICS_PORT: '0',
        SSPI_AGENT_REPORT_FILE: reportFile,
        // The app's temp files (SAM files, stand-in packages) go in the run's own dir, removed below
        // even when the app was killed before it could clean up.
        TMPDIR: dir,
        // One code cache for every run (the default directory is under TMPDIR, new for each): the
        // suite runs the start code from it as apps do after their first start.
        SSPI_AGENT_CODE_CACHE: join(REPO, '.tmp', 'code-cache'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const report = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, 'utf8')) : undefined;
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr, report, results: jsonLines(stdout) });
    });
  });
}

/** The lines of an app's stdout that parse as JSON: the results a fixture prints. */
export function jsonLines(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // not one of the fixture's result lines
    }
  }
  return out;
}

/** Fails with the child's output, which is what one needs to see when an app under test misbehaves. */
export function explain(run) {
  return `exit ${run.code} signal ${run.signal}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}
