#!/usr/bin/env node
// `npm run bench`: the agent's overhead as ratios against raw SSPI calls on real WinPR, and its cost
// as live handles grow. Each configuration of the agent runs in a child process of its own (started
// with `node --import sspi-agent`, as users run it), which times raw and instrumented calls side by
// side in rounds; this process collects the results, prints a table and writes them as JSON.
//
//   npm run bench                      full run (about 2–3 minutes on 2 cores), bench/results/latest.json
//   npm run bench -- --smoke           tiny sizes, a few seconds (also BENCH_SMOKE=1); checks it all runs
//   npm run bench -- --out FILE        write the JSON elsewhere
//   npm run bench -- --only calls,live,registry,scrape-load,workers,e2e,test-plugin,startup
//   npm run bench -- --only startup --against DIR
//                                      start-up of another build of the package (an older commit's
//                                      checkout, built) in the same rounds: before and after side by side
//   npm run bench -- --profile         CPU profiles of the instrumented acquire+free, query+free and handshake loops
//                                      (stacks off), of acquire+free with call spans, and of the demo
//                                      server under section 10's logins: where the time goes, by src/
//                                      file:line (bench/results/profile.json, profiles/)
//   node bench/run.mjs --docs          puts the table of bench/results/latest.json (or --out) in docs/performance.md
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, statSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { load, machine } from './lib/machine.mjs';
import { fmtCount } from './lib/formats.mjs';
import { buildRows, machineLine, markdownTable } from './lib/table.mjs';
import { analyzeProfile } from './lib/cpuprofile.mjs';
import { freePort } from '../examples/lib/free-port.mjs';
import { benchE2e, driveOneServer } from './e2e/run-e2e.mjs';
import { benchStartup } from './lib/startup.mjs';
import { bundle, bundleIsStale, READABLE_BUNDLE } from '../scripts/bundle.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORKLOADS = join(ROOT, 'bench', 'workloads');

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: process.env.BENCH_SMOKE === '1' },
    out: { type: 'string' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    docs: { type: 'boolean', default: false },
    against: { type: 'string' },
  },
});

const K = 1000;
const M = 1000 * K;

/** Sizes: full runs keep the whole thing near 2–3 minutes on a 2-core VM; smoke runs finish in seconds. */
const SIZES = {
  full: {
    calls: {
      defaultOverOffPairs: 3,
      handshake: { batch: 20, rounds: 60, warmup: 5 },
      acquireFree: { batch: 1000, rounds: 40, warmup: 5 },
      queryInfoFree: { batch: 2000, rounds: 40, warmup: 5 },
    },
    live: {
      perOpLevels: [10 * K, 100 * K, M],
      memoryLevels: [100 * K, M],
      scrapeLevels: [10, M],
      releasedMemoryFill: 12 * K,
      perOp: { batch: 1000, rounds: 20, warmup: 3 },
      scrape: { rounds: 10, warmup: 2 },
    },
    registry: {
      scrapeLevels: [10, M],
      scrape: { rounds: 15, warmup: 3 },
      report: { leaked: 100 * K, rounds: 3, warmup: 0 },
      reportStacks: ['all', 'off'],
    },
    // Blocks idle/load/load/idle/…: `pairs` of each; a scraper of `connections` keep-alive connections.
    scrapeLoad: {
      connections: 4,
      pairs: 4,
      maxSeconds: 90,
      maxScrapes: 200 * K,
      workloads: {
        handshake: { batch: 5, rounds: 80, warmup: 3 },
        acquireFree: { batch: 200, rounds: 80, warmup: 3 },
      },
    },
    profile: { ms: 4000, live: M },
    // Raw and instrumented children alternate `pairs` times; scrapes with 0 and with `workers` idle workers.
    workers: { workers: 2, ms: 3000, pairs: 3, connections: 1 },
    // Closed-loop logins over HTTP, ABBA blocks of raw and instrumented servers, per configuration.
    // Many short blocks: this machine's load swings by 2× within seconds. The median of 40 pair ratios
    // held A/A runs on a quiet machine within 1.00 ± 0.03× (one under a load of 1.6 gave 1.05×), where
    // 8 pairs of 2 s gave 0.93–1.07×.
    e2e: { concurrency: 4, blockMs: 400, pairs: 40, warmupMs: 4000 },
    // Suite runs with and without sspi-agent/mocha's hooks, alternating, per count of live handles.
    testPlugin: { tests: 500, pairs: 10, live: [0, 100] },
    // Whole processes: every variant once per round, the order reversed every other round.
    startup: { rounds: 30, warmup: 1 },
  },
  smoke: {
    calls: {
      handshake: { batch: 2, rounds: 3, warmup: 1 },
      acquireFree: { batch: 50, rounds: 3, warmup: 1 },
      queryInfoFree: { batch: 50, rounds: 3, warmup: 1 },
    },
    live: {
      perOpLevels: [200, 1000],
      memoryLevels: [1000],
      scrapeLevels: [10, 1000],
      releasedMemoryFill: 100,
      perOp: { batch: 50, rounds: 3, warmup: 1 },
      scrape: { rounds: 2, warmup: 1 },
    },
    registry: {
      scrapeLevels: [10, 2000],
      scrape: { rounds: 2, warmup: 1 },
      report: { leaked: 2000, rounds: 1, warmup: 0 },
      reportStacks: ['all', 'off'],
    },
    scrapeLoad: {
      connections: 2,
      pairs: 1,
      maxSeconds: 30,
      maxScrapes: 2000,
      workloads: {
        handshake: { batch: 2, rounds: 3, warmup: 1 },
        acquireFree: { batch: 20, rounds: 3, warmup: 1 },
      },
    },
    profile: { ms: 300, live: 1000 },
    workers: { workers: 2, ms: 300, pairs: 1, connections: 1 },
    e2e: { concurrency: 2, blockMs: 300, pairs: 1, warmupMs: 200 },
    testPlugin: { tests: 50, pairs: 2, live: [0, 10] },
    startup: { rounds: 2, warmup: 0 },
  },
};

const mode = args.smoke ? 'smoke' : 'full';
const sizes = SIZES[mode];
const GROUPS = ['calls', 'live', 'registry', 'scrape-load', 'workers', 'e2e', 'test-plugin', 'startup'];
const groups = new Set((args.only ?? GROUPS.join(',')).split(',').map((s) => s.trim()));
for (const g of groups) if (!GROUPS.includes(g)) throw new Error(`--only: unknown group ${g} (one of ${GROUPS.join(', ')})`);

/** The agent's settings come from here alone: none of the caller's SSPI_AGENT_* or OTEL_* leak in. */
function childEnv(agentEnv) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SSPI_AGENT_') && !k.startsWith('OTEL_')));
  return { ...env, WLOG_LEVEL: 'OFF', SSPI_AGENT_METRICS_PORT: '0', ...agentEnv };
}

let step = 0;
const started = performance.now();
function progress(text) {
  process.stderr.write(`bench [${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${++step}. ${text}\n`);
}

/** Runs one workload script in a child process; resolves with the JSON it wrote. */
function runChild(script, { nodeArgs = [], agent = true, env = {}, input, cwd = ROOT }) {
  const dir = mkdtempSync(join(tmpdir(), 'sspi-bench-out-'));
  const outFile = join(dir, 'result.json');
  const argv = [...(agent ? ['--import', 'sspi-agent'] : []), '--expose-gc', ...nodeArgs, join(WORKLOADS, script), JSON.stringify(input), outFile];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      try {
        if (code !== 0) throw new Error(`${script} ${JSON.stringify(env)} exited with ${code ?? signal}:\n${output}`);
        resolve({ result: JSON.parse(readFileSync(outFile, 'utf8')), output });
      } catch (err) {
        reject(err);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** The call-spans configuration exists once the agent has the setting and an SDK is installed. */
async function spansSupport() {
  const { SETTINGS } = await import('../dist/config.js');
  if (!Object.values(SETTINGS).some((s) => s.name === 'CALL_SPANS')) return 'SSPI_AGENT_CALL_SPANS is not in src/config.ts yet (OpenTelemetry support in progress)';
  const require = createRequire(join(ROOT, 'package.json'));
  for (const pkg of ['@opentelemetry/sdk-node', '@opentelemetry/sdk-trace']) {
    try {
      require.resolve(pkg);
    } catch {
      return `${pkg} is not installed`;
    }
  }
  return undefined;
}

const CALL_CONFIGS = [
  { id: 'budget', env: { SSPI_AGENT_STACKS: 'budget' } },
  { id: 'all', env: { SSPI_AGENT_STACKS: 'all' } },
  { id: 'sampled', env: { SSPI_AGENT_STACKS: 'sampled' } },
  { id: 'off', env: { SSPI_AGENT_STACKS: 'off' } },
  // The app registers an OpenTelemetry SDK; the agent's other settings at their defaults.
  { id: 'spans', env: { SSPI_AGENT_CALL_SPANS: '1', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' }, spans: true },
];

async function benchCalls() {
  const out = {};
  const spansMissing = await spansSupport();
  for (const config of CALL_CONFIGS) {
    if (config.spans && spansMissing) {
      out[config.id] = { skipped: spansMissing };
      progress(`calls, ${config.id}: not measured (${spansMissing})`);
      continue;
    }
    progress(`calls (handshake, acquire+free, QuerySecurityPackageInfoW+FreeContextBuffer), ${config.spans ? 'call spans + SDK' : `stacks ${config.id}`}`);
    // The reference wrappers do not depend on the agent's settings: measured once, in the stacks-off child.
    const references = config.id === 'off';
    const { result } = await runChild('calls.mjs', { env: config.env, input: { ...sizes.calls, spans: Boolean(config.spans), references } });
    out[config.id] = { env: config.env, ...result };
  }
  out.defaultOverOff = await defaultOverOffPairs(out);
  return out;
}

/**
 * What the default's stacks add over stacks off is a small difference of two noisy ratios (one child
 * each varies by ±0.15× here from run to run): further children of both, alternating, give one
 * difference per pair, the first pair being the children above.
 */
async function defaultOverOffPairs(calls) {
  const medians = (result) => Object.fromEntries(Object.entries(result.workloads).map(([w, r]) => [w, r.ratio.median]));
  const byConfig = Object.fromEntries(CALL_CONFIGS.map((c) => [c.id, c]));
  if (!calls.budget?.workloads || !calls.off?.workloads) return [];
  const pairs = [{ budget: medians(calls.budget), off: medians(calls.off) }];
  for (let i = 1; i < sizes.calls.defaultOverOffPairs; i++) {
    progress(`calls, stacks budget (default) vs off: pair ${i + 1} of ${sizes.calls.defaultOverOffPairs}`);
    const pair = {};
    for (const id of i % 2 ? ['off', 'budget'] : ['budget', 'off']) {
      const { result } = await runChild('calls.mjs', { env: byConfig[id].env, input: { ...sizes.calls, spans: false, references: false } });
      pair[id] = medians(result);
    }
    pairs.push(pair);
  }
  return pairs;
}

async function benchLive() {
  const out = {};
  for (const stacks of ['off', 'all']) {
    progress(`live handles up to ${fmtCount(Math.max(...sizes.live.perOpLevels, ...sizes.live.memoryLevels))} (real WinPR credentials), stacks ${stacks}`);
    const { result } = await runChild('live-handles.mjs', { env: { SSPI_AGENT_STACKS: stacks }, nodeArgs: ['--max-old-space-size=6144'], input: sizes.live });
    out[stacks] = result;
  }
  return out;
}

async function benchRegistry() {
  const { scrapeLevels, report } = sizes.registry;
  progress(`registry unit level (synthetic records): /metrics scrape at ${scrapeLevels.map(fmtCount).join(' vs ')} live, exit report for ${fmtCount(report.leaked)} leaks`);
  const { result } = await runChild('registry.mjs', { agent: false, nodeArgs: ['--max-old-space-size=6144'], input: sizes.registry });
  return result;
}

/**
 * Scrapes under load: the endpoint on a free loopback port, scraped from a separate process while the
 * app's SSPI calls are timed (a port taken between the probe and the child's bind: another one).
 */
async function benchScrapeLoad() {
  const { connections, workloads } = sizes.scrapeLoad;
  progress(`/metrics scraped over ${connections} loopback connections from another process vs idle: ${Object.keys(workloads).join(', ')}, raw vs instrumented (default settings)`);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const { result } = await runChild('scrape-load.mjs', { env: { SSPI_AGENT_METRICS_HOST: '127.0.0.1', SSPI_AGENT_METRICS_PORT: String(port) }, input: sizes.scrapeLoad });
      return result;
    } catch (err) {
      if (attempt >= 3 || !/metrics endpoint did not start/.test(err.message)) throw err;
    }
  }
}

/**
 * What SSPI in worker threads costs the main thread: workers doing handshakes with and without the
 * agent (children alternating), then scrapes of the endpoint with no worker and with idle workers.
 */
async function benchWorkers() {
  const { workers, ms, pairs, connections } = sizes.workers;
  progress(`${workers} worker threads: handshakes for ${ms} ms, raw vs instrumented × ${pairs}; then /metrics scraped with 0 and ${workers} idle workers`);
  const run = async (agent, input) => {
    const env = agent ? { SSPI_AGENT_METRICS_HOST: '127.0.0.1', SSPI_AGENT_METRICS_PORT: String(await freePort()) } : {};
    return (await runChild('workers.mjs', { agent, env, input: { ms, connections, ...input } })).result;
  };
  const out = { raw: [], agent: [], scrapes: { none: [], idle: [] } };
  for (let i = 0; i < pairs; i++) {
    out.raw.push(await run(false, { workers, task: 'handshakes' }));
    out.agent.push(await run(true, { workers, task: 'handshakes' }));
    out.scrapes.none.push(await run(true, { workers: 0, task: 'idle', scrape: true }));
    out.scrapes.idle.push(await run(true, { workers, task: 'idle', scrape: true }));
  }
  return { workers, ...out };
}

/** What sspi-agent/mocha adds per test: one child per count of live handles (the plugin starts the agent itself). */
async function benchTestPlugin() {
  const { tests, pairs, live } = sizes.testPlugin;
  const runs = [];
  for (const count of live) {
    progress(`mocha: ${tests} trivial tests with and without sspi-agent/mocha × ${pairs} pairs, ${count} handles live`);
    runs.push((await runChild('mocha-suite.mjs', { agent: false, input: { tests, pairs, live: count } })).result);
  }
  return runs;
}

/**
 * What --profile records: acquire+free and the handshake with stacks off, the handshake at default
 * settings, acquire+free with 1M live handles (what grows with them), acquire+free with call spans
 * and an SDK, query+free with stacks off, and the handshake with call spans beside the span floor.
 */
const SPANS_ENV = { SSPI_AGENT_CALL_SPANS: '1', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };
const PROFILES = [
  { workload: 'acquireFree', config: 'stacks-off', env: { SSPI_AGENT_STACKS: 'off' } },
  { workload: 'acquireFree', config: 'stacks-off-live', env: { SSPI_AGENT_STACKS: 'off' }, live: true },
  { workload: 'handshake', config: 'stacks-off', env: { SSPI_AGENT_STACKS: 'off' } },
  // Default settings: where the stack budget's time goes, beside the stacks-off profiles above.
  { workload: 'handshake', config: 'stacks-budget', env: {} },
  { workload: 'acquireFree', config: 'stacks-budget', env: {} },
  { workload: 'acquireFree', config: 'call-spans', env: SPANS_ENV, spans: true },
  // The rows that miss their targets, beside what they are measured against: query + free (stacks
  // off), and the handshake with call spans against the span floor (the minimal tracking wrapper
  // with one SDK span per call of the default span set).
  { workload: 'queryInfoFree', config: 'stacks-off', env: { SSPI_AGENT_STACKS: 'off' } },
  { workload: 'handshake', config: 'call-spans', env: SPANS_ENV, spans: true },
  { workload: 'handshake', config: 'span-floor', env: SPANS_ENV, spans: true, reference: 'minimal-spans' },
];

async function profileRuns(keepDir) {
  const results = [];
  mkdirSync(keepDir, { recursive: true });
  const spansMissing = await spansSupport();
  // The agent as users load it, but with its lines kept: the profiler counts ticks by line.
  if (bundleIsStale(READABLE_BUNDLE)) await bundle({ readable: true });
  const preload = ['--import', pathToFileURL(join(READABLE_BUNDLE, 'index.js')).href];
  const api = pathToFileURL(join(READABLE_BUNDLE, 'api.js')).href;
  for (const { workload, config, env, spans, live, reference } of PROFILES) {
    if (spans && spansMissing) continue;
    const what = reference ? `the ${reference} reference wrapper's` : 'the instrumented';
    progress(`CPU profile of ${what} ${workload} loop, ${config}${live ? ` (${fmtCount(sizes.profile.live)})` : ''}, ${sizes.profile.ms} ms`);
    const name = live ? `${config}-${fmtCount(sizes.profile.live)}` : config;
    const kept = join(keepDir, `${workload}-${name}.cpuprofile`);
    const result = await keptProfile(kept, async (profilerArgs) => {
      const { result } = await runChild('profile-loop.mjs', {
        agent: false,
        env: { ...env, SSPI_AGENT_BENCH_API: api },
        nodeArgs: [...preload, ...profilerArgs, '--max-old-space-size=6144'],
        input: { workload, ms: sizes.profile.ms, spans: Boolean(spans), live: live ? sizes.profile.live : 0, reference },
      });
      return result;
    });
    results.push({ workload, config: name, ...analyzeProfile(kept, { root: ROOT, ops: result.ops, window: result.window, top: 15 }), profile: kept });
  }
  results.push(...(await profileE2eServers(keepDir, preload)));
  return results;
}

/**
 * Runs `run` with the node arguments that profile a process into a directory of its own, and keeps
 * the main thread's profile as `kept` (one profile per thread: the ESM loader hook has its own; the
 * main thread's is the biggest). Resolves with what `run` resolved with.
 */
async function keptProfile(kept, run) {
  const profDir = mkdtempSync(join(tmpdir(), 'sspi-bench-prof-'));
  try {
    const result = await run(['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=100']);
    const files = readdirSync(profDir).map((f) => join(profDir, f));
    copyFileSync(files.sort((a, b) => statSync(b).size - statSync(a).size)[0], kept);
    return result;
  } finally {
    rmSync(profDir, { recursive: true, force: true });
  }
}

/**
 * The demo server under section 10's load, without the agent and with it (default settings): where
 * a login's time goes when calls come one request at a time (batches of a few rows), not in tight
 * loops, and what else runs slower beside the agent. Its op is a login.
 */
async function profileE2eServers(keepDir, preload) {
  const results = [];
  for (const [config, agentArgs] of [['no agent', []], ['default settings', preload]]) results.push(await profileE2eServer(keepDir, config, agentArgs));
  return results;
}

/** One server's profile; `agentArgs`: the node arguments that preload the agent, or none. */
async function profileE2eServer(keepDir, config, agentArgs) {
  const { concurrency, blockMs, warmupMs } = sizes.e2e;
  const pairs = Math.max(1, Math.round(sizes.profile.ms / (2 * blockMs)));
  progress(`CPU profile of the demo server, ${config}, under ${concurrency} closed-loop login clients, ${pairs * 2 * blockMs} ms`);
  const kept = join(keepDir, `login-server-${config.replaceAll(' ', '-')}.cpuprofile`);
  const { logins, window } = await keptProfile(kept, (profilerArgs) =>
    driveOneServer({ concurrency, blockMs, pairs, warmupMs }, childEnv({}), [...agentArgs, ...profilerArgs]),
  );
  // Its µs/op is wall time per login, the server's idle time (waiting on its clients) included: the
  // buckets say how much of it is whose.
  return { workload: 'NTLM login over HTTP (server side)', config, ...analyzeProfile(kept, { root: ROOT, ops: logins, window, top: 15 }), profile: kept };
}

function shortPath(path) {
  const r = relative(ROOT, path);
  return r.startsWith('..') ? path : r;
}

function functionRows(functions) {
  const lines = ['| self time | function | location | µs/op | hottest lines |', '| --- | --- | --- | --- | --- |'];
  for (const f of functions) {
    const hot = f.hotLines.map((l) => `${l.location} ${l.pct.toFixed(1)}% \`${l.text.slice(0, 60)}\``).join('; ');
    lines.push(`| ${f.pct.toFixed(1)}% | ${f.function} | ${f.location} | ${f.usPerOp.toFixed(2)} | ${hot.replace(/\|/g, '\\|')} |`);
  }
  return lines;
}

function printProfile(p) {
  const lines = [`\n### ${p.workload}, ${p.config}: ${p.ops} ops in ${p.windowMs.toFixed(0)} ms, ${p.usPerOp.toFixed(2)} µs/op under the profiler (${shortPath(p.profile)})`, ''];
  lines.push('| where | share | µs/op |', '| --- | --- | --- |');
  for (const b of p.buckets) lines.push(`| ${b.bucket} | ${b.pct.toFixed(1)}% | ${b.usPerOp.toFixed(2)} |`);
  lines.push('', 'Agent time by file (the native call excluded):', '', '| file | share | µs/op |', '| --- | --- | --- |');
  for (const f of p.agentFiles) if (f.pct >= 0.3) lines.push(`| ${f.file} | ${f.pct.toFixed(1)}% | ${f.usPerOp.toFixed(2)} |`);
  lines.push('', 'Top self time, everything:', '', ...functionRows(p.functions));
  lines.push('', 'Top self time, agent functions:', '', ...functionRows(p.agentFunctions));
  return lines.join('\n');
}

const outFile = args.out ?? join(ROOT, 'bench', 'results', args.profile ? 'profile.json' : mode === 'smoke' ? 'smoke.json' : 'latest.json');

/** The table of docs/performance.md, between its markers, from a result file: no benchmark runs. */
function updatePerformanceDoc(resultFile) {
  const doc = JSON.parse(readFileSync(resultFile, 'utf8'));
  const docFile = join(ROOT, 'docs', 'performance.md');
  const text = readFileSync(docFile, 'utf8');
  const [start, end] = ['<!-- bench-table:start -->', '<!-- bench-table:end -->'];
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`docs/performance.md has no ${start} … ${end} block`);
  const body = `Measured on ${machineLine(doc.machine, doc)}, ${doc.generatedAt.slice(0, 10)}:\n\n${markdownTable(doc.table)}`;
  writeFileSync(docFile, text.slice(0, i + start.length) + '\n' + body + '\n' + text.slice(j));
  process.stderr.write(`bench: docs/performance.md table from ${shortPath(resultFile)}\n`);
}

if (args.docs) {
  updatePerformanceDoc(args.out ?? join(ROOT, 'bench', 'results', 'latest.json'));
  process.exit(0);
}
/** The build under test: a rebuild of dist/ during a run (others work in this tree) mixes two builds. */
function distFingerprint() {
  const hash = createHash('sha1');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.js')) hash.update(entry.name).update(readFileSync(path));
    }
  };
  walk(join(ROOT, 'dist'));
  return hash.digest('hex').slice(0, 12);
}

/** The agent's defaults, from the build under test: which configuration users get without settings. */
async function agentDefaults() {
  const { SETTINGS } = await import('../dist/config.js');
  const stacks = Object.values(SETTINGS).find((s) => s.name === 'STACKS');
  return { stacks: stacks?.default };
}

const loadBefore = load();
const fingerprintBefore = distFingerprint();
const info = { ...machine(ROOT), dist: fingerprintBefore };
const defaults = await agentDefaults();
let document;
if (args.profile) {
  const profiles = await profileRuns(join(dirname(outFile), 'profiles'));
  document = { kind: 'profile', mode, generatedAt: new Date().toISOString(), machine: info, profiles };
  process.stdout.write(profiles.map(printProfile).join('\n') + '\n');
} else {
  const results = {};
  if (groups.has('calls')) results.calls = await benchCalls();
  if (groups.has('live')) results.live = await benchLive();
  if (groups.has('registry')) results.registry = await benchRegistry();
  if (groups.has('scrape-load')) results.scrapeLoad = await benchScrapeLoad();
  if (groups.has('workers')) results.workers = await benchWorkers();
  if (groups.has('e2e')) results.e2e = await benchE2e(sizes.e2e, { childEnv, progress });
  if (groups.has('test-plugin')) results.testPlugin = await benchTestPlugin();
  if (groups.has('startup')) results.startup = await benchStartup(sizes.startup, { childEnv, progress, against: args.against });
  const rows = buildRows(results, defaults);
  const distChanged = distFingerprint() !== fingerprintBefore;
  const meta = { mode, durationSeconds: (performance.now() - started) / 1000, loadBefore, loadAfter: load(), distChanged };
  document = { kind: 'bench', ...meta, generatedAt: new Date().toISOString(), machine: info, defaults, sizes, results, table: rows };
  process.stdout.write(`\nsspi-agent benchmark — ${machineLine(info, meta)}\n\n${markdownTable(rows)}\n`);
  if (distChanged) process.stderr.write('bench: WARNING: dist/ was rebuilt during the run; the results mix two builds: run it again\n');
}
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(document, null, 2) + '\n');
process.stderr.write(`bench: wrote ${shortPath(outFile)} in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
