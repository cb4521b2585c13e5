// Turns the raw results into the table rows (kept in the JSON too) and renders them as Markdown.
// Targets are the issue's; a row without one is for information.
import { testPluginRows } from './test-plugin-rows.mjs';
import { summarize } from './stats.mjs';
import { e2eRows } from './e2e-rows.mjs';
import { startupRows } from './startup.mjs';
import { fmtBytes, fmtCount, fmtMs, fmtRange, fmtRatio, fmtTime } from './formats.mjs';

/** A ratio row from an `interleave` result. */
function ratioRow(workload, config, r, target) {
  return {
    workload,
    config,
    raw: fmtTime(r.rawNs.median),
    agent: fmtTime(r.wrappedNs.median),
    figure: 'agent / raw',
    value: r.ratio.median,
    median: fmtRatio(r.ratio.median),
    iqr: fmtRange(r.ratio.q1, r.ratio.q3, fmtRatio),
    range: fmtRange(r.ratio.min, r.ratio.max, fmtRatio),
    amortized: fmtRatio(r.amortizedRatio),
    runs: `${r.rounds} × ${r.batch}`,
    ...verdict(r.ratio.median, target),
  };
}

function verdict(value, target) {
  if (!target) return { target: '', ok: undefined };
  return { target: `≤ ${target.show}`, ok: Number.isFinite(value) && value <= target.max };
}

const CALL_CONFIGS = ['budget', 'all', 'sampled', 'off', 'spans'];

/** The targets: the handshake at the default settings and with stacks off; acquire+free with and without stacks. */
function callTarget(workload, config, defaults) {
  if (workload === 'handshake') {
    if (config === 'off') return { max: 1.01, show: '1.01×' };
    if (config === defaults.stacks) return { max: 1.03, show: '1.03× (default settings)' };
  }
  if (workload === 'acquireFree') {
    if (config === 'off') return { max: 1.15, show: '1.15×' };
    if (config === 'all' || config === 'sampled') return { max: 1.5, show: '1.5×' };
  }
  return undefined;
}

function configLabel(config, defaults) {
  if (config === 'spans') return `call spans + OTel SDK (stacks ${defaults.stacks})`;
  return `stacks ${config}${config === defaults.stacks ? ' (default)' : ''}`;
}

const WORKLOAD_NAMES = {
  handshake: '1. NTLM handshake, client + server',
  acquireFree: '2. acquire + free credential',
  queryInfoFree: '3. QuerySecurityPackageInfoW + FreeContextBuffer',
};

/** bench/lib/reference-wrappers.mjs: what a JS wrapper costs with nothing in it, and with the least tracking. */
const REFERENCE_LABELS = {
  'pass-through': 'reference: pass-through wrapper, no agent',
  'minimal-tracking': 'reference: minimal tracking wrapper, no agent (reads handles, one lookup each, keeps the facts)',
};

/** Measured beside the call-spans configuration, under the same SDK. */
const SPAN_REFERENCE_LABELS = {
  'minimal-spans': 'reference: span floor, the minimal tracking wrapper + one SDK span per call of the default span set, no agent',
};

/** Issue 21's targets: the agent's added cost ÷ the minimal tracking wrapper's, per workload and configuration. */
const QUOTIENT_CONFIG = { handshake: 'default', acquireFree: 'off', queryInfoFree: 'off' };

function addedCostQuotient(name, calls, defaults, workload) {
  const config = QUOTIENT_CONFIG[workload] === 'default' ? defaults.stacks : QUOTIENT_CONFIG[workload];
  const agent = calls?.[config]?.workloads?.[workload];
  const minimal = calls?.off?.references?.['minimal-tracking']?.[workload];
  if (!agent || !minimal) return undefined;
  const value = (agent.ratio.median - 1) / (minimal.ratio.median - 1);
  return {
    workload: name,
    config: configLabel(config, defaults),
    raw: `${fmtRatio(minimal.ratio.median)} minimal wrapper`,
    agent: `${fmtRatio(agent.ratio.median)} agent`,
    figure: "agent's added cost ÷ minimal wrapper's",
    value,
    median: Number.isFinite(value) && value > 0 ? value.toFixed(2) : '—',
    iqr: '',
    range: '',
    amortized: '',
    runs: 'from the rows above',
    ...verdict(value > 0 ? value : NaN, { max: 1.5, show: '1.5' }),
  };
}

/** The handshake with call spans: the agent's ratio over the span floor's, measured in the same child. */
function spanFloorDelta(name, calls, workload) {
  const agent = calls?.spans?.workloads?.[workload];
  const floor = calls?.spans?.references?.['minimal-spans']?.[workload];
  if (!agent || !floor) return undefined;
  const value = agent.ratio.median - floor.ratio.median;
  return {
    workload: name,
    config: 'call spans + OTel SDK − span floor',
    raw: `${fmtRatio(floor.ratio.median)} span floor`,
    agent: `${fmtRatio(agent.ratio.median)} agent`,
    figure: 'ratio difference',
    value,
    median: `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)}×`,
    iqr: '',
    range: '',
    amortized: '',
    runs: 'from the rows above',
    ...verdict(workload === 'handshake' ? value : NaN, workload === 'handshake' ? { max: 0.1, show: '+0.10×' } : undefined),
  };
}

export function buildRows(results, defaults) {
  const rows = [];
  for (const workload of Object.keys(WORKLOAD_NAMES)) {
    for (const id of CALL_CONFIGS) {
      const run = results.calls?.[id];
      if (!run) continue;
      const label = configLabel(id, defaults);
      if (run.skipped) {
        // One "not measured" row says it; repeating it under every workload says nothing more.
        if (workload === 'handshake') rows.push({ workload: WORKLOAD_NAMES[workload], config: label, figure: 'agent / raw', median: 'not measured', note: run.skipped, ...verdict(NaN, undefined) });
        continue;
      }
      rows.push(ratioRow(WORKLOAD_NAMES[workload], label, run.workloads[workload], callTarget(workload, id, defaults)));
    }
    const delta = defaultOverOff(WORKLOAD_NAMES[workload], results.calls, defaults, workload);
    if (delta) rows.push(delta);
    for (const [kind, label] of Object.entries(REFERENCE_LABELS)) {
      const r = results.calls?.off?.references?.[kind]?.[workload];
      if (r) rows.push({ ...ratioRow(WORKLOAD_NAMES[workload], label, r), figure: 'reference / raw' });
    }
    for (const [kind, label] of Object.entries(SPAN_REFERENCE_LABELS)) {
      const r = results.calls?.spans?.references?.[kind]?.[workload];
      if (r) rows.push({ ...ratioRow(WORKLOAD_NAMES[workload], label, r), figure: 'reference / raw' });
    }
    for (const row of [addedCostQuotient(WORKLOAD_NAMES[workload], results.calls, defaults, workload), spanFloorDelta(WORKLOAD_NAMES[workload], results.calls, workload)]) {
      if (row) rows.push(row);
    }
  }
  for (const [mode, label] of [['off', 'stacks off'], ['all', 'stacks all']]) {
    const live = results.live?.[mode];
    if (!live) continue;
    const perOp = live.levels.filter((l) => l.acquireFree);
    for (const l of perOp) rows.push(ratioRow(`4. acquire + free, ${fmtCount(l.live)} live (real)`, label, l.acquireFree));
    if (perOp.length >= 2) {
      const lo = perOp[0];
      const hi = perOp[perOp.length - 1];
      const value = hi.acquireFree.ratio.median / lo.acquireFree.ratio.median;
      rows.push({
        workload: `4. per-op cost, ${fmtCount(hi.live)} vs ${fmtCount(lo.live)} live`,
        config: label,
        raw: `${fmtTime(lo.acquireFree.wrappedNs.median)} at ${fmtCount(lo.live)}`,
        agent: `${fmtTime(hi.acquireFree.wrappedNs.median)} at ${fmtCount(hi.live)}`,
        figure: 'ratio at high / at low',
        value,
        median: fmtRatio(value),
        iqr: fmtRange(hi.acquireFree.ratio.q1 / lo.acquireFree.ratio.q3, hi.acquireFree.ratio.q3 / lo.acquireFree.ratio.q1, fmtRatio),
        range: '',
        runs: 'from the rows above',
        ...verdict(value, { max: 1.1, show: '1.10×' }),
      });
    }
    for (const l of live.levels.filter((l) => l.memory)) {
      const value = l.memory.agentBytesPerHandle;
      rows.push({
        workload: `5. heap per live tracked handle, ${fmtCount(l.live)} live (real)`,
        config: label,
        raw: `${fmtBytes(l.memory.rawHeapBytes / l.live)} (app's holder)`,
        agent: `${fmtBytes(l.memory.instrumentedHeapBytes / l.live)}`,
        figure: 'agent bytes / handle',
        value,
        median: fmtBytes(value),
        iqr: '',
        range: '',
        runs: '1',
        // The target is for a million live handles: at fewer, the Map's spare capacity and the agent's
        // fixed costs weigh more per handle.
        ...verdict(value, mode === 'off' && l.live >= 1_000_000 ? { max: 128, show: '128 B' } : undefined),
      });
    }
    const scrapes = live.levels.filter((l) => l.scrape).map((l) => ({ live: l.live, ...l.scrape }));
    if (scrapes.length >= 2) rows.push(scrapeRow('6. /metrics scrape, agent registry (real handles)', label, scrapes, undefined));
  }
  const reg = results.registry;
  if (reg) {
    rows.push(scrapeRow('6. /metrics scrape, PrometheusExporter (synthetic records)', 'unit level', reg.scrape, { max: 2, show: '2×' }));
    for (const r of reg.exitReport) {
      rows.push({
        workload: `7. exit report, ${fmtCount(r.leaked)} leaked, ${r.groups} sites (synthetic records)`,
        config: `stacks ${r.stacks}`,
        raw: '',
        agent: `build ${fmtMs(r.declareAndBuildMs.median)} + format ${fmtMs(r.formatMs.median)}`,
        figure: 'time',
        value: r.totalMs.median,
        median: fmtMs(r.totalMs.median),
        iqr: fmtRange(r.totalMs.q1, r.totalMs.q3, fmtMs),
        range: fmtRange(r.totalMs.min, r.totalMs.max, fmtMs),
        runs: String(r.totalMs.n),
        ...verdict(r.totalMs.median, { max: 1000, show: '1 s' }),
      });
    }
  }
  const scrapeLoad = results.scrapeLoad;
  if (scrapeLoad) {
    const settings = configLabel(defaults.stacks, defaults);
    for (const [workload, name] of Object.entries(SCRAPE_LOAD_NAMES)) {
      const w = scrapeLoad.workloads?.[workload];
      if (!w) continue;
      const s = w.scrapes;
      rows.push(ratioRow(name, `${settings}; idle: no scraper`, w.idle));
      rows.push(ratioRow(name, `${settings}; under load: ${s.connections} connections, ${s.servedInWindow} scrapes served in the timed window`, w.load));
      const failed = s.failed ? `, ${s.failed} failed` : '';
      rows.push({
        workload: name,
        config: `${settings}; ${s.answered} scrapes answered${failed}, p50 ${fmtMs(s.latencyMs.median)}`,
        raw: `${fmtRatio(w.idle.ratio.median)} idle`,
        agent: `${fmtRatio(w.load.ratio.median)} under load`,
        figure: 'ratio under load / idle',
        value: w.quotient,
        median: fmtRatio(w.quotient),
        iqr: fmtRange(w.load.ratio.q1 / w.idle.ratio.q3, w.load.ratio.q3 / w.idle.ratio.q1, fmtRatio),
        range: '',
        // Not total/total: under load, the GC pauses of a turn are mostly the scrapes' garbage, charged
        // to whichever side ran before it (the JSON keeps it as amortizedQuotient).
        amortized: '',
        runs: `${w.load.blocks.length} + ${w.idle.blocks.length} blocks × ${w.load.roundsPerBlock} × ${w.load.batch}`,
        // Issue 8: scrapes under load must not slow the app's calls beyond the benchmark's ratios.
        ...verdict(w.quotient, { max: 1.1, show: '1.10× (the idle ratio, within noise)' }),
      });
    }
  }
  if (results.workers) rows.push(...workerRows(results.workers));
  rows.push(...e2eRows(results.e2e));
  rows.push(...testPluginRows(results.testPlugin));
  rows.push(...startupRows(results.startup));
  return rows;
}

const median = (values) => summarize(values).median;

/**
 * What the default's stacks add in a tight loop: its ratio minus the stacks-off ratio, per pair of
 * children run one after the other (issue 14: ≤ 0.10×); the median over the pairs, and their range.
 */
function defaultOverOff(name, calls, defaults, workload) {
  if (defaults.stacks === 'off') return undefined;
  const pairs = (calls?.defaultOverOff ?? []).filter((p) => p[defaults.stacks]?.[workload] !== undefined && p.off?.[workload] !== undefined);
  if (pairs.length === 0) return undefined;
  const diffs = summarize(pairs.map((p) => p[defaults.stacks][workload] - p.off[workload]));
  const signed = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}×`;
  return {
    workload: name,
    config: `stacks ${defaults.stacks} (default) − stacks off`,
    raw: `${fmtRatio(median(pairs.map((p) => p.off[workload])))} stacks off`,
    agent: `${fmtRatio(median(pairs.map((p) => p[defaults.stacks][workload])))} default`,
    figure: 'ratio difference',
    value: diffs.median,
    median: signed(diffs.median),
    iqr: '',
    range: `${signed(diffs.min)}–${signed(diffs.max)}`,
    amortized: '',
    runs: `${pairs.length} pairs of children`,
    ...verdict(diffs.median, { max: 0.1, show: '+0.10×' }),
  };
}

/** Section 9: what SSPI in worker threads costs the main thread, and the workers' own handshakes. */
function workerRows(w) {
  const name = `9. ${w.workers} worker threads`;
  const busy = (runs) => runs.map((r) => r.mainBusyMs / r.seconds);
  const rate = (runs) => runs.map((r) => r.handshakes / r.seconds);
  const perScrape = (runs) => runs.map((r) => r.mainBusyMs / Math.max(1, r.scrapes.ok));
  const [rawBusy, agentBusy] = [median(busy(w.raw)), median(busy(w.agent))];
  const [rawRate, agentRate] = [median(rate(w.raw)), median(rate(w.agent))];
  const [noneScrape, idleScrape] = [median(perScrape(w.scrapes.none)), median(perScrape(w.scrapes.idle))];
  const scrapes = [...w.scrapes.none, ...w.scrapes.idle].reduce((n, r) => n + r.scrapes.ok, 0);
  const info = { iqr: '', range: '', amortized: '', target: '', ok: undefined };
  return [
    {
      ...info,
      workload: `${name} running handshakes, main thread idle`,
      config: 'default settings, no scrapes',
      raw: `${fmtMs(rawBusy)} busy / s`,
      agent: `${fmtMs(agentBusy)} busy / s`,
      figure: 'main thread busy, agent − raw',
      value: agentBusy - rawBusy,
      median: `${agentBusy >= rawBusy ? '+' : '−'}${fmtMs(Math.abs(agentBusy - rawBusy))} / s`,
      runs: `${w.raw.length} + ${w.agent.length} runs`,
    },
    {
      ...info,
      workload: `${name} running handshakes, main thread idle`,
      config: 'default settings, no scrapes',
      raw: `${rawRate.toFixed(0)} handshakes / s`,
      agent: `${agentRate.toFixed(0)} handshakes / s`,
      figure: 'time per handshake in the workers, agent / raw',
      value: rawRate / agentRate,
      median: fmtRatio(rawRate / agentRate),
      runs: `${w.raw.length} + ${w.agent.length} runs`,
    },
    {
      ...info,
      workload: `${name} holding 10 credentials each, /metrics scraped without pause`,
      config: `default settings; ${scrapes} scrapes`,
      raw: `${fmtMs(noneScrape)} with no worker`,
      agent: `${fmtMs(idleScrape)} with ${w.workers} workers`,
      figure: 'main-thread time per scrape',
      value: idleScrape / noneScrape,
      median: `${fmtRatio(idleScrape / noneScrape)} (+${fmtMs((idleScrape - noneScrape) / w.workers)} per worker)`,
      runs: `${w.scrapes.none.length} + ${w.scrapes.idle.length} runs`,
    },
  ];
}

/** Section 8: the app's SSPI calls while another process scrapes /metrics (loopback), against idle. */
const SCRAPE_LOAD_NAMES = {
  handshake: '8. NTLM handshake, /metrics scraped meanwhile',
  acquireFree: '8. acquire + free credential, /metrics scraped meanwhile',
};

function scrapeRow(workload, config, levels, target) {
  const lo = levels[0];
  const hi = levels[levels.length - 1];
  const value = hi.ms.median / lo.ms.median;
  return {
    workload,
    config,
    raw: `${fmtMs(lo.ms.median)} at ${fmtCount(lo.live)}`,
    agent: `${fmtMs(hi.ms.median)} at ${fmtCount(hi.live)}`,
    figure: `scrape at ${fmtCount(hi.live)} / at ${fmtCount(lo.live)}`,
    value,
    median: fmtRatio(value),
    iqr: fmtRange(hi.ms.q1 / lo.ms.q3, hi.ms.q3 / lo.ms.q1, fmtRatio),
    range: '',
    runs: `${hi.ms.n} each`,
    ...verdict(value, target),
  };
}

const COLUMNS = [
  ['workload', 'workload'],
  ['config', 'configuration'],
  ['raw', 'without agent / baseline'],
  ['agent', 'with agent'],
  ['figure', 'figure'],
  ['median', 'median'],
  ['iqr', 'IQR'],
  ['range', 'min–max'],
  ['amortized', 'total / total'],
  ['runs', 'rounds × batch'],
  ['target', 'target'],
  ['ok', ''],
];

export function markdownTable(rows) {
  const cell = (row, key) => {
    if (key === 'ok') return row.ok === undefined ? '' : row.ok ? 'meets' : '**misses**';
    if (key === 'median' && row.note) return `${row.median}: ${row.note}`;
    return String(row[key] ?? '').replace(/\|/g, '\\|');
  };
  const lines = [`| ${COLUMNS.map(([, h]) => h).join(' | ')} |`, `| ${COLUMNS.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${COLUMNS.map(([k]) => cell(row, k)).join(' | ')} |`);
  return lines.join('\n');
}

export function machineLine(m, meta) {
  return (
    `${m.cpuModel ?? 'unknown CPU'}, nproc ${m.nproc}, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}, koffi ${m.koffi}, WinPR ${m.winpr ?? '?'}; ` +
    `commit ${m.gitCommit ?? '?'}${m.gitDirty ? ' + uncommitted src/ changes' : ''} (dist ${m.dist}${meta.distChanged ? ', REBUILT DURING THE RUN' : ''}); ${meta.mode} run, ${meta.durationSeconds.toFixed(0)} s, ` +
    `load average ${meta.loadBefore} before / ${meta.loadAfter} after`
  );
}
