// Runs a fixture test suite as a user runs it: mocha from the suite's directory with its own .mocharc
// (`require: sspi-agent/mocha`), or `node --test --import sspi-agent/node-test` there. Their files are
// named *.spec.mjs, so that this repository's own mocha run (test/**/*.test.mjs) leaves them alone.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, REPO } from './run-app.mjs';

export const SUITES = join(FIXTURES, 'test-suites');
const MOCHA = join(REPO, 'node_modules', 'mocha', 'bin', 'mocha.js');

/**
 * Where mocha finds the package: a user's `node_modules/sspi-agent`. Mocha resolves `--require`
 * from its own directory, which here is this repository's node_modules, so the package is put on
 * NODE_PATH under its name (`node --import` finds it from the fixture's directory by its own name).
 */
export function packageDir() {
  const dir = mkdtempSync(join(tmpdir(), 'sspi-agent-modules-'));
  symlinkSync(REPO, join(dir, 'sspi-agent'), 'dir');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function run(argv, { cwd, env }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      cwd,
      env: { ...process.env, WLOG_LEVEL: 'OFF', SSPI_AGENT_METRICS_PORT: '0', SSPI_AGENT_REPORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `mocha [args]` in test-suites/mocha, with `modules` (packageDir()) on NODE_PATH. */
export function runMocha(modules, args = [], env = {}) {
  return run([MOCHA, ...args], { cwd: join(SUITES, 'mocha'), env: { NODE_PATH: modules.dir, ...env } });
}

/** `node --test --import sspi-agent/node-test` on `files` in test-suites/node-test, reported one JSON line per test; `testStderr`: what the test processes wrote to stderr. */
export async function runNodeTest(files, env = {}) {
  const argv = ['--test', '--test-reporter=./json-lines-reporter.mjs', '--import', 'sspi-agent/node-test', ...files];
  const result = await run(argv, { cwd: join(SUITES, 'node-test'), env });
  const lines = result.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const testStderr = lines.filter((l) => l.stderr !== undefined).map((l) => l.stderr).join('');
  return { ...result, results: lines.filter((l) => l.stderr === undefined), testStderr };
}

/**
 * Mocha's spec reporter's failures, by number: `{ title, message }`, the title as its epilogue
 * shows it (suite and test, or a hook), the message without mocha's indentation of the first line.
 */
export function mochaFailures(stdout) {
  const epilogue = stdout.slice(stdout.search(/^ {2}\d+ failing$/m));
  const entries = epilogue.split(/^ {2}\d+\) /m).slice(1);
  return entries.map((entry) => {
    const [head, ...rest] = entry.split(/:\n {5}/);
    return { title: head.replace(/\n\s+/g, ' / ').trim(), message: rest.join(':\n     ').replace(/^SspiLeakError: /, '').trimEnd() };
  });
}

/** The timings in a message (`+12ms` in a history): what differs between two runs of the same suite. */
export function withoutTimings(text) {
  return text.replace(/\+\d+ms/g, '+Nms').replace(/:(\d+):\d+\b/g, ':$1');
}
