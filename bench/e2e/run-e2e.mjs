// Section 10, what users feel: the demo's NTLM server with its leak fixed, started twice (without and
// with `--import sspi-agent`), driven by a client process in ABBA blocks (bench/e2e/login-clients.mjs),
// for each agent configuration: default settings, stacks `all`, call spans with an OpenTelemetry SDK;
// first, A/A: two raw servers, the second in the agent's place, for the harness's own bias.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SERVER = join(ROOT, 'bench', 'e2e', 'login-server.mjs');
const CLIENTS = join(ROOT, 'bench', 'e2e', 'login-clients.mjs');

export const E2E_CONFIGS = [
  // No agent on either side: any difference from 1.00× is the harness's, not the agent's.
  { id: 'aa', env: {}, agent: false },
  { id: 'default', env: {} },
  { id: 'all', env: { SSPI_AGENT_STACKS: 'all' } },
  // The app registers an SDK in both servers: only the agent differs.
  { id: 'spans', env: { SSPI_AGENT_CALL_SPANS: '1', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' }, appEnv: { BENCH_OTEL_SDK: '1' } },
];

/** Starts one server (`nodeArgs` before its script); resolves with { url, stop } once it listens. */
function startServer(withAgent, env, nodeArgs = []) {
  const args = [...(withAgent ? ['--import', 'sspi-agent'] : []), ...nodeArgs, SERVER];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...env, DEMO_FIX_LEAK: '1', DEMO_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
      const m = /^listening on (http:\/\/\S+)$/m.exec(stdout);
      if (m) resolve(m[1]);
    });
    exited.then(({ code, signal }) => reject(new Error(`login server exited with ${signal ?? code} before listening:\n${output}`)));
  });
  // CPU time from the moment it listens: its start-up (the agent's included) is not a login's cost.
  const cpuAtListen = url.then(() => cpuTimeMs(child.pid)).catch(() => undefined);
  const stop = async () => {
    const cpuMs = cpuTimeMs(child.pid) - (await cpuAtListen);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const end = await exited;
    if (end.code !== 0) throw new Error(`login server ended with ${end.signal ?? end.code}:\n${output}`);
    return { output, cpuMs };
  };
  return { url, stop };
}

/** A process's CPU time so far (user + system, ms), from Linux's /proc; undefined elsewhere. */
function cpuTimeMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the last ')': the command name in parentheses may hold spaces and parentheses itself.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

function runClients(input) {
  const dir = mkdtempSync(join(tmpdir(), 'sspi-bench-e2e-'));
  const outFile = join(dir, 'result.json');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENTS, JSON.stringify(input), outFile], { cwd: ROOT, env: { ...process.env, WLOG_LEVEL: 'OFF' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`login clients exited with ${code}:\n${output}`);
        resolve(JSON.parse(readFileSync(outFile, 'utf8')));
      } catch (err) {
        reject(err);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/**
 * `{ [config]: { env, concurrency, blockMs, pairs, blocks } }`; `childEnv(env)` is the bench's clean
 * environment. Each configuration runs in two halves, its servers started anew for each and in the
 * other order the second time: in A/A runs the server started second was the faster more often than
 * not, and a fixed order would credit that to the agent.
 */
export async function benchE2e(sizes, { childEnv, progress }) {
  const out = {};
  for (const config of E2E_CONFIGS) {
    const versus = config.agent === false ? 'raw vs raw (A/A)' : `raw vs agent (${config.id})`;
    progress(`end to end: demo NTLM server (leak fixed), ${sizes.concurrency} closed-loop keep-alive clients in another process, ${versus}, ${sizes.pairs} ABBA pairs of ${sizes.blockMs} ms blocks, in two halves with the servers' start order swapped`);
    const env = childEnv({ ...config.env, ...(config.appEnv ?? {}) });
    const halves = [Math.ceil(sizes.pairs / 2), Math.floor(sizes.pairs / 2)].filter((n) => n > 0);
    const blocks = [];
    // Each server's CPU time and logins over both halves: its CPU per login.
    const cpu = { raw: { ms: 0, logins: 0 }, agent: { ms: 0, logins: 0 } };
    let result;
    for (const [half, pairs] of halves.entries()) {
      result = await runHalf(config, env, { ...sizes, pairs }, half === 1);
      const offset = half === 0 ? 0 : halves[0];
      for (const b of result.blocks) blocks.push({ ...b, pair: b.pair + offset, agentStartedFirst: half === 1 });
      for (const side of ['raw', 'agent']) {
        cpu[side].ms += result.cpuMs[side] ?? NaN;
        cpu[side].logins += result.served[side];
      }
    }
    const cpuUsPerLogin = Object.fromEntries(Object.entries(cpu).map(([side, { ms, logins }]) => [side, (ms * 1000) / logins]));
    const { concurrency, blockMs } = result;
    out[config.id] = { env: config.env, concurrency, blockMs, pairs: sizes.pairs, blocks, cpuUsPerLogin };
  }
  return out;
}

/** One half of a configuration's pairs: both servers started (the agent's first when `agentFirst`), driven, stopped. */
async function runHalf(config, env, sizes, agentFirst) {
  const start = (withAgent) => startServer(withAgent && config.agent !== false, env);
  let raw;
  let agent;
  if (agentFirst) {
    agent = start(true);
    await agent.url.catch(() => undefined);
    raw = start(false);
  } else {
    raw = start(false);
    await raw.url.catch(() => undefined);
    agent = start(true);
  }
  let result;
  try {
    const urls = { raw: await raw.url, agent: await agent.url };
    result = await runClients({ urls, ...sizes });
  } finally {
    const [rawEnd, agentEnd] = await Promise.all([raw.stop(), agent.stop()]);
    if (result) result.cpuMs = { raw: rawEnd.cpuMs, agent: agentEnd.cpuMs };
  }
  return result;
}

/**
 * For `--profile`: one server started with `nodeArgs` (the agent's readable bundle preloaded, the
 * profiler on), driven alone through the same blocks; resolves with the logins counted and their
 * window, in the profiler's clock.
 */
export async function driveOneServer(sizes, env, nodeArgs) {
  const server = startServer(false, env, nodeArgs);
  try {
    const url = await server.url;
    const result = await runClients({ urls: { raw: url, agent: url }, ...sizes });
    return { logins: result.blocks.reduce((n, b) => n + b.logins, 0), window: result.window };
  } finally {
    await server.stop();
  }
}
