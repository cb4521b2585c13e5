// Child process under `node --import sspi-agent` (default settings) with the /metrics endpoint on a
// loopback port (SSPI_AGENT_METRICS_PORT): do scrapes of the endpoint slow the app's SSPI calls beyond
// the agent's own ratio? The NTLM handshake and acquire+free are timed raw vs instrumented, ABBA, in
// small batches with a turn of the event loop between two batches (as an app between requests), so the
// endpoint — served on this same thread — answers scrapes in those turns. Phases alternate, idle-load-
// load-idle…: idle (no scraper) and under load (a separate process, bench/lib/scraper.mjs, scraping
// continuously over a few keep-alive connections). Each phase's per-round ratios are pooled over its
// blocks (after one uncounted block); the figure is the median ratio under load over the median ratio idle.
//
// Scrapes are counted twice: by the scraper (answers, failures, latency) and here, by Node's
// `http.server.response.finish` diagnostics channel, with the time each was served — so the result
// says how many were served inside the timed windows of the load phases (and that none were in the
// idle ones).
// argv[2]: JSON sizes; argv[3]: output file.
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { startScraper } from '../lib/scraper-control.mjs';
import { interleave, summarize } from '../lib/stats.mjs';
import { checkedHandshake, loadBindings, operations } from '../lib/sspi.mjs';

const sizes = JSON.parse(process.argv[2]);
const outFile = process.argv[3];

// Every response the process's HTTP servers finished (the agent's endpoint is the only one here).
const served = [];
subscribe('http.server.response.finish', ({ response }) => served.push([performance.now(), response.statusCode]));

const { raw, wrapped, samFile, api, settle, cleanup } = await loadBindings();
checkedHandshake(raw, samFile);
checkedHandshake(wrapped, samFile);
const rawOps = operations(raw, samFile);
const wrappedOps = operations(wrapped, samFile);

const port = await api.start()?.metricsServer?.ready;
if (!port) throw new Error(`the metrics endpoint did not start (SSPI_AGENT_METRICS_PORT=${process.env.SSPI_AGENT_METRICS_PORT})`);
const url = `http://127.0.0.1:${port}/metrics`;

const servedIn = ([from, to]) => served.filter(([t]) => t >= from && t <= to).length;

/** One workload: blocks of idle and load in ABBA order, each an `interleave` run; pooled per phase. */
async function measure(name, scraper) {
  const phases = {
    idle: { blocks: [], rawNs: [], wrappedNs: [], ratios: [], raw: 0, wrapped: 0, turnsMs: [], servedInWindow: 0 },
    load: { blocks: [], rawNs: [], wrappedNs: [], ratios: [], raw: 0, wrapped: 0, turnsMs: [], servedInWindow: 0, ok: 0, failed: 0, errors: {}, latenciesMs: [] },
  };
  const order = [];
  for (let pair = 0; pair < sizes.pairs; pair++) order.push(...(pair % 2 === 0 ? ['idle', 'load'] : ['load', 'idle']));
  // A block not counted first: the first block would otherwise also pay for the JIT's warm-up.
  await interleave({ raw: rawOps[name], wrapped: wrappedOps[name], settle }, sizes.workloads[name]);
  for (const phase of order) {
    const p = phases[phase];
    if (phase === 'load') await scraper.start();
    const r = await interleave({ raw: rawOps[name], wrapped: wrappedOps[name], settle }, { ...sizes.workloads[name], keep: true });
    const inWindow = servedIn(r.window);
    p.servedInWindow += inWindow;
    p.blocks.push({ ratio: r.ratio.median, windowMs: r.window[1] - r.window[0], servedInWindow: inWindow });
    p.rawNs.push(...r.perRound.rawNs);
    p.wrappedNs.push(...r.perRound.wrappedNs);
    p.ratios.push(...r.perRound.ratios);
    p.raw += r.totalMs.raw;
    p.wrapped += r.totalMs.wrapped;
    p.turnsMs.push(...r.turnsMs);
    if (phase === 'load') {
      const s = await scraper.stop();
      p.ok += s.ok;
      p.failed += s.failed;
      for (const [why, n] of Object.entries(s.errors)) p.errors[why] = (p.errors[why] ?? 0) + n;
      p.latenciesMs.push(...s.latenciesMs);
    }
  }
  const { batch, rounds, warmup } = sizes.workloads[name];
  const pooled = (p) => ({
    batch,
    rounds: p.ratios.length,
    roundsPerBlock: rounds,
    warmup,
    blocks: p.blocks,
    rawNs: summarize(p.rawNs),
    wrappedNs: summarize(p.wrappedNs),
    ratio: summarize(p.ratios),
    amortizedRatio: p.wrapped / p.raw,
    turnMs: summarize(p.turnsMs),
    servedInWindow: p.servedInWindow,
  });
  const idle = pooled(phases.idle);
  const load = pooled(phases.load);
  const l = phases.load;
  if (l.ok === 0) throw new Error(`${name}: no scrape was answered under load (${JSON.stringify(l.errors)}): the load was not real`);
  return {
    idle,
    load,
    quotient: load.ratio.median / idle.ratio.median,
    amortizedQuotient: load.amortizedRatio / idle.amortizedRatio,
    scrapes: {
      connections: sizes.connections,
      answered: l.ok,
      failed: l.failed,
      errors: l.errors,
      latencyMs: summarize(l.latenciesMs),
      servedInWindow: l.servedInWindow,
      servedInIdleWindows: phases.idle.servedInWindow,
    },
  };
}

const started = performance.now();
const scraper = await startScraper(url, sizes);
const workloads = {};
try {
  for (const name of Object.keys(sizes.workloads)) workloads[name] = await measure(name, scraper);
} finally {
  await scraper.end();
}
cleanup();
const statuses = {};
for (const [, status] of served) statuses[status] = (statuses[status] ?? 0) + 1;
writeFileSync(
  outFile,
  JSON.stringify({
    stacks: process.env.SSPI_AGENT_STACKS ?? 'default',
    endpoint: '127.0.0.1 (loopback)',
    served: { total: served.length, byStatus: statuses },
    workloads,
    seconds: (performance.now() - started) / 1000,
  }),
);
