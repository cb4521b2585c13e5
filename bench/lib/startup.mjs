// Section 12, start-up: whole processes of a short-lived app (bench/workloads/startup-app.mjs: koffi
// loaded, a function declared), without the agent and with it, timed from spawn to exit, with the
// peak RSS each reports at exit. The variants of one round run back to back, in the opposite order
// the next round, so that a drift of the machine's load falls on both sides of every difference; a
// round's differences are its agent runs minus its baseline run. With `--against DIR` (another build
// of the package, e.g. an older commit's), that build's agent runs in the same rounds, for rows of
// before and after measured side by side.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { freePort } from '../../examples/lib/free-port.mjs';
import { fmtDelta, fmtIn } from './formats.mjs';
import { summarize } from './stats.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const APP = join(ROOT, 'bench', 'workloads', 'startup-app.mjs');

/** `base`: the run each is compared with, in the same round. The endpoint is on where the agent is (its default). */
export const STARTUP_VARIANTS = [
  { id: 'plain', agent: false, appArgs: [] },
  { id: 'off', agent: true, appArgs: [], env: { SSPI_AGENT_ENABLED: '0' }, base: 'plain' },
  { id: 'default', agent: true, appArgs: [], base: 'plain' },
  // The start code compiled, as at a first start (src/code-cache.ts); the warm-up round made the cache the others run from.
  { id: 'compiled', agent: true, appArgs: [], env: { SSPI_AGENT_CODE_CACHE: 'off' }, base: 'plain', setting: 'CODE_CACHE' },
  { id: 'sdk-plain', agent: false, appArgs: ['sdk'] },
  { id: 'sdk', agent: true, appArgs: ['sdk'], base: 'sdk-plain' },
];

/**
 * The preload entry of another build, as `--import sspi-agent` would load it there: its package.json's
 * `exports['.']` (dist/bundle/index.js since the agent is bundled; dist/index.js before).
 */
function entryOf(against) {
  const { exports } = JSON.parse(readFileSync(join(against, 'package.json'), 'utf8'));
  const main = typeof exports === 'string' ? exports : typeof exports?.['.'] === 'string' ? exports['.'] : exports?.['.']?.default;
  return pathToFileURL(join(against, main ?? 'dist/index.js')).href;
}

/** The variants, and with another build, its agent variants too (ids suffixed `@against`). */
function variants(against) {
  if (!against) return STARTUP_VARIANTS;
  const entry = entryOf(against);
  // A variant that sets a variable the other build does not know would only measure its warning.
  const known = readFileSync(join(against, 'README.md'), 'utf8');
  const theirs = STARTUP_VARIANTS.filter((v) => v.agent && (!v.setting || known.includes(`SSPI_AGENT_${v.setting}`))).map((v) => ({ ...v, id: `${v.id}@against`, entry, of: v.id }));
  return [...STARTUP_VARIANTS, ...theirs];
}

/** One process: wall ms from spawn to exit, and the peak RSS (MiB) and CPU time (ms) it reported at exit. */
async function runOnce(variant, childEnv) {
  const env = childEnv({ SSPI_AGENT_METRICS_PORT: String(await freePort()), ...variant.env });
  const argv = [...(variant.agent ? ['--import', variant.entry ?? 'sspi-agent'] : []), APP, ...variant.appArgs];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', () => (child.wallMs = performance.now() - started));
    child.on('close', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{"maxRssKb"'));
      if (code !== 0 || !line) return reject(new Error(`start-up app (${variant.id}) exited with ${signal ?? code}:\n${stdout}${stderr}`));
      if (stderr !== '') return reject(new Error(`start-up app (${variant.id}) wrote to stderr:\n${stderr}`));
      const { maxRssKb, cpuUs } = JSON.parse(line);
      resolve({ wallMs: child.wallMs, peakMiB: maxRssKb / 1024, cpuMs: cpuUs / 1000 });
    });
  });
}

/** `{ rounds: [{ order, runs: { [variant]: { wallMs, peakMiB } } }] }`, after `warmup` untimed rounds. */
export async function benchStartup({ rounds, warmup }, { childEnv, progress, against }) {
  const all = variants(against);
  progress(`start-up: ${all.map((v) => v.id).join(', ')} as whole processes, ${rounds} rounds in alternating order (+${warmup} untimed)${against ? `; @against: ${against}` : ''}`);
  const out = { against, rounds: [] };
  for (let i = 0; i < warmup + rounds; i++) {
    const order = i % 2 === 0 ? all : [...all].reverse();
    const runs = {};
    for (const variant of order) runs[variant.id] = await runOnce(variant, childEnv);
    if (i >= warmup) out.rounds.push({ order: order.map((v) => v.id), runs });
  }
  return out;
}

const LABELS = {
  off: 'agent off (SSPI_AGENT_ENABLED=0)',
  default: 'agent on, default settings (endpoint bound)',
  compiled: 'agent on, SSPI_AGENT_CODE_CACHE=off (its start code compiled, as at a first start)',
  sdk: 'agent on, the app starts an OpenTelemetry NodeSDK first (both sides)',
};

/** The issue's targets on Node 26: added wall time and added peak RSS. */
const TARGETS = {
  off: { ms: 3 },
  default: { ms: 25, mib: 8 },
};

function deltaRow(variant, figure, key, unit, digits, rounds, max, label = LABELS[variant.id]) {
  const base = rounds.map((r) => r.runs[variant.base][key]);
  const agent = rounds.map((r) => r.runs[variant.id][key]);
  const d = summarize(rounds.map((r) => r.runs[variant.id][key] - r.runs[variant.base][key]));
  const fmt = (x) => fmtIn(x, unit, digits);
  return {
    workload: '12. start-up, whole process (koffi loaded, a function declared)',
    config: label,
    raw: fmt(summarize(base).median),
    agent: fmt(summarize(agent).median),
    figure,
    value: d.median,
    median: fmtDelta(d.median, unit, digits),
    iqr: `${fmtDelta(d.q1, unit, digits)} – ${fmtDelta(d.q3, unit, digits)}`,
    range: `${fmtDelta(d.min, unit, digits)} – ${fmtDelta(d.max, unit, digits)}`,
    amortized: '',
    runs: `${rounds.length} paired processes`,
    ...(max === undefined ? { target: '', ok: undefined } : { target: `≤ +${max} ${unit}`, ok: d.median <= max }),
  };
}

export function startupRows(startup) {
  if (!startup) return [];
  const rows = [];
  for (const variant of variants(startup.against).filter((v) => v.base)) {
    const target = variant.of ? {} : (TARGETS[variant.id] ?? {});
    const label = variant.of ? `${LABELS[variant.of]}; the build in ${startup.against}` : LABELS[variant.id];
    rows.push(deltaRow(variant, 'added wall time, agent − without', 'wallMs', 'ms', 1, startup.rounds, target.ms, label));
    rows.push(deltaRow(variant, 'added peak RSS, agent − without', 'peakMiB', 'MiB', 1, startup.rounds, target.mib, label));
    rows.push(deltaRow(variant, 'added CPU time (user + system), agent − without', 'cpuMs', 'ms', 1, startup.rounds, undefined, label));
  }
  return rows;
}
