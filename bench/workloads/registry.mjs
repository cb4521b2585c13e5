// Child process, plain `node --expose-gc` (no preload): the agent's components from dist/ driven
// directly, with SYNTHETIC handle records (HandleRegistry.open with made-up keys shaped like WinPR's,
// no SSPI call behind them; allocation stacks captured with the agent's own stack policy):
//   - one /metrics text (PrometheusExporter over a HandleRegistry) with 10 vs 1M live records;
//   - the exit report (declareLeaks + buildLeakReport + formatLeakReport, as process-end runs them)
//     for 100k leaked handles from 5 call sites × 4 label sets.
// argv[2]: JSON sizes; argv[3]: output file.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { HandleRegistry } from '../../dist/core/registry.js';
import { PrometheusExporter } from '../../dist/exporters/prometheus.js';
import { buildLeakReport, formatLeakReport } from '../../dist/exporters/leak-report.js';
import { stackPolicy } from '../../dist/core/stacks.js';
import { fullGc, summarize, timeRuns } from '../lib/stats.mjs';

const sizes = JSON.parse(process.argv[2]);
const outFile = process.argv[3];

// WinPR's handle values are two 64-bit numbers near 2^64 (pointers, sign-extended); a key is upper << 64 | lower.
const LOWER = 18446744073041078767n;
const UPPER = 18446603421442756222n;

/** The registry with the exporter subscribed, as the agent wires them. */
function agentParts() {
  const registry = new HandleRegistry();
  const prometheus = new PrometheusExporter(registry);
  return { registry, prometheus };
}

const PACKAGES = [
  ['credential', 'NTLM', 'inbound', 'AcquireCredentialsHandleW'],
  ['credential', 'Negotiate', 'outbound', 'AcquireCredentialsHandleW'],
  ['context', 'NTLM', 'inbound', 'AcceptSecurityContext'],
  ['context', 'Negotiate', 'outbound', 'InitializeSecurityContextW'],
];

// A few distinct allocation sites, as an app with several leaking call paths would have. `sspiCall`
// stands for the agent's wrapper: the stack starts at its caller, as the real one's does.
function sspiCall(policy, createdBy) { return policy.forCreation(createdBy, sspiCall); }
function loginA(policy, fn) { return sspiCall(policy, fn); }
function loginB(policy, fn) { return sspiCall(policy, fn); }
function retryPath(policy, fn) { return sspiCall(policy, fn); }
function healthCheck(policy, fn) { return sspiCall(policy, fn); }
function batchJob(policy, fn) { return sspiCall(policy, fn); }
const SITES = [loginA, loginB, retryPath, healthCheck, batchJob];

/** Opens `count` synthetic records, from a few sites and label sets. */
function populate(registry, from, count, stacks) {
  const policy = stackPolicy(stacks, 8);
  for (let i = from; i < from + count; i++) {
    const [kind, pkg, direction, createdBy] = PACKAGES[i % PACKAGES.length];
    const key = ((UPPER + BigInt(i)) << 64n) | (LOWER - BigInt(i));
    const site = SITES[i % SITES.length](policy, createdBy);
    registry.open({ kind, key, package: pkg, direction, createdBy, library: 'libwinpr2.so.2', site, status: kind === 'context' ? 0x00090312 : 0 });
  }
}

async function scrapeMs(prometheus) {
  const { ms, last } = await timeRuns(() => prometheus.metrics(), sizes.scrape);
  return { ms, bytes: last.length };
}

/** Scrape cost at each level of live records (no stacks: stacks do not reach the scrape). */
async function scrapes() {
  const { registry, prometheus } = agentParts();
  const out = [];
  let live = 0;
  for (const level of sizes.scrapeLevels) {
    populate(registry, live, level - live, 'off');
    live = level;
    out.push({ live: level, ...(await scrapeMs(prometheus)) });
  }
  return out;
}

/**
 * What process-end does with `count` leaked handles: declare them leaked (every listener sees it),
 * build the report grouped by site, format it. Fresh records each round: a stack is formatted once
 * and cached, and an exit report runs once per process (so the first, cold round counts too).
 */
function exitReport(stacks) {
  const build = [];
  const format = [];
  const total = [];
  let groups = 0;
  let textBytes = 0;
  for (let r = -sizes.report.warmup; r < sizes.report.rounds; r++) {
    const { registry } = agentParts();
    populate(registry, 0, sizes.report.leaked, stacks);
    fullGc();
    const t0 = performance.now();
    const leaked = registry.declareLeaks('exit');
    const report = buildLeakReport(leaked, 'exit');
    const t1 = performance.now();
    const text = formatLeakReport(report);
    const t2 = performance.now();
    if (r < 0) continue;
    build.push(t1 - t0);
    format.push(t2 - t1);
    total.push(t2 - t0);
    groups = report.groups.length;
    textBytes = text.length;
  }
  return { leaked: sizes.report.leaked, stacks, groups, textBytes, declareAndBuildMs: summarize(build), formatMs: summarize(format), totalMs: summarize(total) };
}

const result = {
  synthetic: true,
  scrape: await scrapes(),
  exitReport: sizes.reportStacks.map((stacks) => exitReport(stacks)),
};
writeFileSync(outFile, JSON.stringify(result));
