// `npm run bench` with tiny sizes, so the benchmark cannot rot: every workload runs and yields finite
// figures. No timing is asserted (these machines are shared and noisy); the numbers are for people.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../helpers/run-app.mjs';

const run = (args) => promisify(execFile)(process.execPath, ['bench/run.mjs', '--smoke', ...args], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });

const CALL_CONFIGS = ['all', 'sampled', 'off'];
const CALL_WORKLOADS = ['handshake', 'acquireFree', 'queryInfoFree'];

function assertFinite(value, what) {
  assert.ok(Number.isFinite(value), `${what} is ${value}`);
}

function assertRatio(result, what) {
  assertFinite(result.rawNs.median, `${what} raw ns/op`);
  assertFinite(result.wrappedNs.median, `${what} instrumented ns/op`);
  for (const key of ['median', 'q1', 'q3', 'min', 'max']) assertFinite(result.ratio[key], `${what} ratio ${key}`);
  assert.ok(result.ratio.median > 0, `${what} ratio is positive`);
}

describe('benchmark (smoke run)', function () {
  this.timeout(120_000);
  let dir;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'sspi-bench-test-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('measures every workload as finite ratios and writes the JSON result and the table', async function () {
    const out = join(dir, 'smoke.json');
    const { stdout } = await run(['--out', out]);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(doc.mode, 'smoke');
    assert.ok(doc.machine.nproc >= 1 && doc.machine.cpuModel && doc.machine.node, 'states the machine');

    for (const config of CALL_CONFIGS) {
      for (const workload of CALL_WORKLOADS) assertRatio(doc.results.calls[config].workloads[workload], `${workload} (${config})`);
    }
    for (const kind of ['pass-through', 'minimal-tracking']) {
      for (const workload of CALL_WORKLOADS) assertRatio(doc.results.calls.off.references[kind][workload], `${workload} (reference: ${kind})`);
    }
    const spans = doc.results.calls.spans;
    if (spans.skipped) assert.match(spans.skipped, /\S/, 'a skipped configuration says why');
    else {
      for (const workload of CALL_WORKLOADS) assertRatio(spans.workloads[workload], `${workload} (spans)`);
      // The span floor, measured beside the agent's call spans under the same SDK.
      for (const workload of CALL_WORKLOADS) assertRatio(spans.references['minimal-spans'][workload], `${workload} (reference: span floor)`);
      assert.ok(doc.table.some((r) => r.config === 'call spans + OTel SDK − span floor' && r.target !== ''), 'the handshake over the span floor has its target');
      assert.ok(spans.spans.names.includes('AcquireCredentialsHandleW') && !spans.spans.names.includes('FreeCredentialsHandle'), 'the default span set');
    }
    assert.equal(doc.table.filter((r) => r.figure === "agent's added cost ÷ minimal wrapper's").length, CALL_WORKLOADS.length, 'the added-cost quotients');
    const aa = doc.results.e2e?.aa;
    assert.ok(aa && aa.blocks.length > 0, 'the end-to-end A/A run');
    assert.ok(doc.table.some((r) => r.config.startsWith('A/A') && r.target === '1.00 ± 0.03×'), 'the A/A row and its target');
    // Each server's CPU per login, for every configuration (from /proc: Linux only, where the bench runs).
    if (process.platform === 'linux') {
      for (const [id, run] of Object.entries(doc.results.e2e)) for (const side of ['raw', 'agent']) assertFinite(run.cpuUsPerLogin[side], `${id}: ${side} server's CPU per login`);
      assert.equal(doc.table.filter((r) => r.figure === 'server CPU per login, agent / raw').length, Object.keys(doc.results.e2e).length, 'a CPU row per configuration');
    }

    // Section 11: what sspi-agent/mocha adds per test, from pairs of suite runs with and without it.
    assert.equal(doc.results.testPlugin.length, 2, 'with and without live handles');
    for (const run of doc.results.testPlugin) {
      assert.ok(run.pairs.length > 0);
      for (const pair of run.pairs) for (const side of ['plugin', 'bare']) assertFinite(pair[side], `${side} suite run`);
    }
    assert.equal(doc.table.filter((r) => r.figure === 'time added per test, plugin − none' && r.target === '≤ 2 ms').length, 2, 'the per-test rows and their target');

    for (const stacks of ['off', 'all']) {
      const live = doc.results.live[stacks];
      const perOp = live.levels.filter((l) => l.acquireFree);
      assert.ok(perOp.length >= 2, `per-op cost at two levels of live handles (stacks ${stacks})`);
      for (const l of perOp) assertRatio(l.acquireFree, `acquire+free with ${l.live} live (stacks ${stacks})`);
      const memory = live.levels.filter((l) => l.memory);
      assert.ok(memory.length >= 1);
      for (const l of memory) assertFinite(l.memory.agentBytesPerHandle, `bytes per handle at ${l.live} (stacks ${stacks})`);
      const scrapes = live.levels.filter((l) => l.scrape);
      assert.ok(scrapes.length >= 2);
      for (const l of scrapes) assertFinite(l.scrape.ms.median, `scrape at ${l.live} (stacks ${stacks})`);
    }

    const registry = doc.results.registry;
    assert.equal(registry.synthetic, true, 'unit-level figures are labelled synthetic');
    assert.ok(registry.scrape.length >= 2);
    for (const s of registry.scrape) assertFinite(s.ms.median, `synthetic scrape at ${s.live}`);
    assert.deepEqual(registry.exitReport.map((r) => r.stacks), ['all', 'off']);
    for (const r of registry.exitReport) {
      assertFinite(r.totalMs.median, `exit report (stacks ${r.stacks})`);
      assert.ok(r.groups > 0 && r.textBytes > 0, 'the report groups leaks by site and prints them');
    }

    // Scrapes under load: the same ratios idle and with another process scraping /metrics (loopback).
    const scrapeLoad = doc.results.scrapeLoad;
    assert.ok(scrapeLoad, 'the scrape-load workload ran');
    for (const workload of ['handshake', 'acquireFree']) {
      const w = scrapeLoad.workloads[workload];
      assertRatio(w.idle, `${workload} idle`);
      assertRatio(w.load, `${workload} under scrape load`);
      assertFinite(w.quotient, `${workload} ratio under load / idle`);
      assert.ok(w.scrapes.answered > 0, `${workload}: scrapes were answered under load`);
      assert.equal(w.scrapes.failed, 0, `${workload}: no scrape failed (${JSON.stringify(w.scrapes.errors)})`);
      assertFinite(w.scrapes.latencyMs.median, `${workload} scrape latency`);
      assert.equal(w.scrapes.servedInIdleWindows, 0, `${workload}: the idle phase had no scrapes`);
    }
    assert.ok(doc.table.some((r) => r.workload.startsWith('8. ') && r.figure === 'ratio under load / idle'), 'section 8 is in the table');

    // Worker threads: the main thread's cost, the workers' handshakes, scrapes gathering the workers' metrics.
    const workers = doc.results.workers;
    assert.ok(workers, 'the workers workload ran');
    for (const r of [...workers.raw, ...workers.agent]) assert.ok(r.handshakes > 0 && Number.isFinite(r.mainBusyMs), 'workers ran handshakes');
    for (const r of [...workers.scrapes.none, ...workers.scrapes.idle]) assert.ok(r.scrapes.ok > 0 && r.scrapes.failed === 0, 'scrapes were answered');
    assert.deepEqual(
      doc.table.filter((r) => r.workload.startsWith('9. ')).map((r) => r.figure),
      ['main thread busy, agent − raw', 'time per handshake in the workers, agent / raw', 'main-thread time per scrape'],
      'section 9 is in the table',
    );

    // Start-up: whole processes, each variant once a round, the agent's runs against the same round's baseline.
    const startup = doc.results.startup;
    assert.ok(startup && startup.rounds.length >= 1, 'the start-up section ran');
    for (const round of startup.rounds) {
      for (const id of ['plain', 'off', 'default', 'sdk-plain', 'sdk']) {
        for (const key of ['wallMs', 'peakMiB', 'cpuMs']) assertFinite(round.runs[id][key], `start-up ${id} ${key}`);
      }
    }
    const startupRows = doc.table.filter((r) => r.workload.startsWith('12. '));
    assert.deepEqual(
      startupRows.filter((r) => r.target !== '').map((r) => `${r.config.split(' (')[0]}: ${r.figure} ${r.target}`),
      ['agent off: added wall time, agent − without ≤ +3 ms', 'agent on, default settings: added wall time, agent − without ≤ +25 ms', 'agent on, default settings: added peak RSS, agent − without ≤ +8 MiB'],
      'the start-up rows and their targets',
    );

    assert.ok(doc.table.length > 0);
    for (const row of doc.table) {
      if (row.note) continue;
      assertFinite(row.value, `table row "${row.workload}" (${row.config})`);
    }
    assert.match(stdout, /\| workload \| configuration \|/, 'prints the table');
    assert.match(stdout, /nproc \d+/, 'prints the machine');
  });

  it('profiles the instrumented loops and attributes their time to src/ lines', async function () {
    const out = join(dir, 'profile.json');
    await run(['--profile', '--out', out]);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    const names = doc.profiles.map((p) => `${p.workload} ${p.config}`);
    for (const name of ['acquireFree stacks-off', 'acquireFree stacks-off-live-1k', 'handshake stacks-off', 'queryInfoFree stacks-off', 'handshake call-spans', 'handshake span-floor', 'NTLM login over HTTP (server side) default settings']) {
      assert.ok(names.includes(name), name);
    }
    // The span floor's profile: the reference wrapper's loop, the agent idle beside it; its native
    // call is told apart by the wrapper's line all the same.
    const floor = doc.profiles.filter((p) => p.config === 'span-floor');
    assert.equal(floor.length, 1, 'the span floor profiled');
    assert.ok(floor[0].ops > 0 && floor[0].buckets.some((b) => b.bucket.startsWith('native SSPI call')), 'the span floor: its native call is found');
    // The demo server's profile without the agent, beside the one with it: no agent time there.
    const withoutAgent = doc.profiles.filter((p) => p.config === 'no agent');
    assert.equal(withoutAgent.length, 1, 'the server profiled without the agent');
    assert.ok(!withoutAgent[0].buckets.some((b) => b.bucket === 'agent (src/)'), 'no agent time without the agent');
    assert.ok(withoutAgent[0].ops > 0 && withoutAgent[0].buckets.some((b) => b.bucket.startsWith('app')), 'the app time of the server without the agent');
    for (const p of doc.profiles.filter((p) => p !== withoutAgent[0] && p !== floor[0])) {
      assert.ok(p.ops > 0 && p.windowMs > 0);
      assert.ok(p.buckets.some((b) => b.bucket === 'agent (src/)'), `${p.workload}: time in the agent is found`);
      assert.ok(p.functions.some((f) => /^src\/.+\.ts:\d+$/.test(f.location)), `${p.workload}: agent frames are mapped to src/*.ts`);
      // Found by line (the wrapper's `original.apply`), so only where the profiled code keeps its lines.
      assert.ok(p.buckets.some((b) => b.bucket.startsWith('native SSPI call')), `${p.workload}: the native call's time is told apart by line`);
    }
  });
});
