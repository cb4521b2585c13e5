#!/usr/bin/env node
// A development tool, not a target's proof: the instructions one call of a workload costs with the
// agent, counted by valgrind's callgrind, for this build and, with --against, another build (an older
// commit's checkout, built) side by side. On a shared, noisy machine, wall time cannot tell a change
// of a few percent of the agent's work from noise; counted instructions can, to about ±300 per op.
//
//   node bench/instructions.mjs [--workload acquireFree|queryInfoFree|handshake] [--ops 40000]
//                               [--runs 3] [--against DIR]
//                               [--binding agent|raw|pass-through|minimal-tracking] [--batch 100]
//
// Each figure is (instructions of a run with `ops` calls − those of a run with none) ÷ ops, the
// median of `runs` pairs. Runs are `node --single-threaded` (no GC or compiler threads, whose share
// varies with timing) and exclude V8's HashSeed::InitializeRoots (a random-length prime search).
// Each build starts once before it is counted: its first start compiles the agent's start code and
// writes its code cache, some 18 million instructions no later start pays. Needs valgrind
// (`apt-get install valgrind`); about a minute a run.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = join(ROOT, 'bench', 'workloads', 'counted-ops.mjs');

const { values: args } = parseArgs({
  options: {
    workload: { type: 'string', default: 'acquireFree' },
    ops: { type: 'string', default: '40000' },
    runs: { type: 'string', default: '3' },
    against: { type: 'string' },
    // What the workload calls through: the agent's instrumented binding, or the floor it is compared with.
    binding: { type: 'string', default: 'agent' },
    // Ops per turn of the event loop: 1 or 2 is a server's request, where each batch's fixed cost shows.
    batch: { type: 'string', default: '100' },
  },
});
const ops = Number(args.ops);
const runs = Number(args.runs);
if (!Number.isInteger(ops) || ops < 100) throw new Error(`--ops: a whole number of at least 100, not ${args.ops}`);
const batch = Number(args.batch);
if (!Number.isInteger(batch) || batch < 1 || ops % batch !== 0) throw new Error(`--batch: a whole number of at least 1 that divides --ops, not ${args.batch}`);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: a whole number of at least 1, not ${args.runs}`);
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('bench/instructions.mjs: valgrind not found (apt-get install valgrind)');
  process.exit(2);
}

const env = { ...process.env, WLOG_LEVEL: 'OFF', SSPI_AGENT_STACKS: process.env.SSPI_AGENT_STACKS ?? 'off' };

function nodeArgs(tree, n) {
  return ['--single-threaded', '--import', join(tree, 'dist', 'bundle', 'index.js'), CHILD, tree, args.workload, String(n), args.binding, String(batch)];
}

/** Instructions of one run, less V8's random-length prime search. */
function counted(tree, n) {
  const dir = mkdtempSync(join(tmpdir(), 'sspi-agent-instructions-'));
  try {
    const out = join(dir, 'callgrind.out');
    const run = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, ...nodeArgs(tree, n)], { env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`run under valgrind failed (${run.status}): ${run.stderr.split('\n').slice(-5).join('\n')}`);
    const annotated = execFileSync('callgrind_annotate', ['--inclusive=yes', out], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const total = number(/^\s*([\d,]+) \(100\.0+%\)\s+PROGRAM TOTALS/m.exec(annotated));
    const seed = number(/^\s*([\d,]+) \([^)]*\)\s+\S*HashSeed::InitializeRoots/m.exec(annotated)) ?? 0;
    if (total === undefined) throw new Error('no PROGRAM TOTALS in callgrind_annotate output');
    return total - seed;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function number(match) {
  return match ? Number(match[1].replaceAll(',', '')) : undefined;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

function perOp(tree) {
  const warm = spawnSync(process.execPath, nodeArgs(tree, 0), { env, encoding: 'utf8' });
  if (warm.status !== 0) throw new Error(`${tree}: ${warm.stderr}`);
  const figures = [];
  for (let i = 0; i < runs; i++) {
    figures.push((counted(tree, ops) - counted(tree, 0)) / ops);
    process.stderr.write(`instructions [${tree}] run ${i + 1}/${runs}: ${Math.round(figures[i])} per op\n`);
  }
  return { median: median(figures), min: Math.min(...figures), max: Math.max(...figures) };
}

const builds = [ROOT, ...(args.against ? [resolve(args.against)] : [])];
const results = builds.map((tree) => ({ tree, ...perOp(tree) }));
console.log(`| build | instructions per ${args.workload} (median of ${runs}) | min–max |`);
console.log('| --- | --- | --- |');
for (const r of results) console.log(`| ${r.tree} | ${Math.round(r.median)} | ${Math.round(r.min)}–${Math.round(r.max)} |`);
if (results.length === 2) console.log(`\nthis build − the other: ${Math.round(results[0].median - results[1].median)} instructions per op`);
