// Child processes of the live tests (demo servers, Prometheus): started in the repository, their
// output kept for failure messages, all stopped at the end; and polling until a probe answers.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO } from './support.mjs';

/** A set of child processes that `stopAll()` ends (SIGTERM, SIGKILL after 5 s). */
export function childProcesses() {
  const handles = new Set();
  return {
    start(command, args, { env = process.env } = {}) {
      const handle = startChild(command, args, env);
      handles.add(handle);
      handle.exited.then(() => handles.delete(handle));
      return handle;
    },
    async stopAll() {
      await Promise.all([...handles].map((h) => h.stop()));
    },
  };
}

function startChild(command, args, env) {
  const child = spawn(command, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (output += d));
  child.once('error', (err) => (output += `\n${err.message}`));
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return {
    pid: child.pid,
    exited,
    output: () => output,
    async waitForOutput(pattern, ms) {
      return waitFor(`${command} printing ${pattern}`, async () => {
        if (child.exitCode !== null) throw new Error(`${command} exited ${child.exitCode}:\n${output}`);
        return pattern.exec(output) ?? undefined;
      }, ms);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Polls `probe` every 250 ms until it returns something truthy; fails after `ms` with its last error. */
export async function waitFor(what, probe, ms) {
  const deadline = Date.now() + ms;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
}
