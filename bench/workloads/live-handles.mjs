// Child process under `node --import sspi-agent --expose-gc` with one stacks mode: grows the number of
// live, tracked credential handles (real WinPR credentials, acquired through the instrumented binding,
// their holder objects kept alive as an app would) and at each level measures
//   - the acquire+free pair, raw vs instrumented, interleaved (the per-op cost with N handles live);
//   - one scrape of the agent's own /metrics registry;
//   - the agent's JS heap per live handle: (heap growth for N instrumented handles − heap growth for
//     the same N raw handles, measured first in this process) / N.
// argv[2]: JSON sizes; argv[3]: output file.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fullGc, interleave, timeRuns } from '../lib/stats.mjs';
import { loadBindings, operations } from '../lib/sspi.mjs';

const sizes = JSON.parse(process.argv[2]);
const outFile = process.argv[3];
const perOpLevels = new Set(sizes.perOpLevels);
const memoryLevels = new Set(sizes.memoryLevels);
const scrapeLevels = new Set(sizes.scrapeLevels);
const levels = [...new Set([...perOpLevels, ...memoryLevels, ...scrapeLevels])].sort((a, b) => a - b);
const top = levels[levels.length - 1];

const { raw, wrapped, samFile, api, settle, cleanup } = await loadBindings();
const rawOps = operations(raw, samFile);
const wrappedOps = operations(wrapped, samFile);

function heapUsed() {
  settle(); // calls the registry has not applied yet hold objects it will not keep
  fullGc();
  return process.memoryUsage().heapUsed;
}

/** Acquires (server) credentials until `holders` has `target`; ns per acquire. */
function grow(binding, holders, target) {
  const start = performance.now();
  const n = target - holders.length;
  while (holders.length < target) holders.push(binding.acquireServerCredentials());
  return n > 0 ? ((performance.now() - start) * 1e6) / n : 0;
}

function release(binding, holders) {
  for (const h of holders) binding.freeCredentials(h);
  holders.length = 0;
}

async function scrape() {
  const registry = api.registry();
  const { ms, last } = await timeRuns(() => registry.metrics(), sizes.scrape);
  return { ms, bytes: last.length };
}

// 1. The same handles without the agent: what the app's own holder objects cost.
const memoryLevelsSorted = [...memoryLevels].sort((a, b) => a - b);
const rawHeap = {};
if (memoryLevelsSorted.length) {
  const holders = [];
  const base = heapUsed();
  for (const level of memoryLevelsSorted) {
    grow(raw, holders, level);
    rawHeap[level] = heapUsed() - base;
  }
  release(raw, holders);
}

// 2. Instrumented handles, level by level. First enough acquire+free pairs to fill the agent's memory
// of released handles (bounded, 10k): what the per-op rounds release later then does not count as
// memory per live handle.
for (let i = 0; i < sizes.releasedMemoryFill; i++) wrappedOps.acquireFree();
const holders = [];
const base = heapUsed();
const results = [];
const started = performance.now();
for (const level of levels) {
  const entry = { live: level };
  entry.populateNsPerAcquire = grow(wrapped, holders, level);
  if (level === levels[0] && api.snapshot().length !== level) throw new Error(`expected ${level} tracked handles, the agent has ${api.snapshot().length}`);
  if (memoryLevels.has(level)) {
    const heap = heapUsed() - base;
    entry.memory = {
      instrumentedHeapBytes: heap,
      rawHeapBytes: rawHeap[level],
      agentBytesPerHandle: (heap - rawHeap[level]) / level,
    };
  }
  if (perOpLevels.has(level)) entry.acquireFree = await interleave({ raw: rawOps.acquireFree, wrapped: wrappedOps.acquireFree, settle }, sizes.perOp);
  if (scrapeLevels.has(level)) entry.scrape = await scrape();
  results.push(entry);
}
// Releasing a million handles one by one would take longer than the rest; stopping the agent spares
// the exit report, and the process ends with them (WinPR's memory goes with it).
await api.stop();
cleanup();
writeFileSync(
  outFile,
  JSON.stringify({
    stacks: process.env.SSPI_AGENT_STACKS ?? 'default',
    levels: results,
    top,
    seconds: (performance.now() - started) / 1000,
  }),
);
