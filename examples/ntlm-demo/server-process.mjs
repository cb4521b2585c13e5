// The NTLM demo server as a child process, for the demo runner and the soak script.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVER = 'examples/ntlm-demo/server.mjs';
const STARTUP_TIMEOUT_MS = 5000;
const SHUTDOWN_TIMEOUT_MS = 3000;

/**
 * Starts the server (under `node --import sspi-agent` when `withAgent`), its /metrics endpoint on
 * `metricsPort`, with its rejected-login leak unless `fixLeak`, and alice's password `password` when
 * given. `listening` resolves with its URL once it printed `listening on <url>`; `stop()` sends
 * SIGTERM (the server's own handler exits) and resolves with how it exited, as `exited` does;
 * `stderr()` is everything it wrote there.
 */
export function startDemoServer({ withAgent, metricsPort, fixLeak, password }) {
  const args = [...(withAgent ? ['--import', 'sspi-agent'] : []), SERVER];
  const env = { ...process.env, WLOG_LEVEL: 'OFF', SSPI_AGENT_METRICS_PORT: String(metricsPort), DEMO_FIX_LEAK: fixLeak ? '1' : '0' };
  if (password !== undefined) env.DEMO_PASSWORD = password;
  const child = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });

  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const listening = new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start within ${STARTUP_TIMEOUT_MS} ms`)), STARTUP_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
      const match = /^listening on (http:\/\/\S+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${signal ?? `code ${code}`} before listening`));
    });
  });
  listening.catch(() => {}); // the caller awaits it; this only keeps an early exit from being unhandled

  async function stop() {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    return exited;
  }

  return { child, listening, exited, stop, stderr: () => stderr.trimEnd() };
}
