// Section 10's rows: logins per second and login latency, agent against raw, from ABBA blocks.
import { fmtMs, fmtRatio } from './formats.mjs';
import { quantile, summarize } from './stats.mjs';

/** The targets: logins/s at least this share of raw; p99 latency at most this multiple. */
const TARGETS = {
  aa: { within: 0.03 },
  default: { rate: 0.97, p99: 1.05 },
  all: { rate: 0.95 },
  spans: { rate: 0.95 },
};

const LABELS = {
  aa: "A/A: the raw server in the agent's place (the harness's bias)",
  default: 'default settings',
  all: 'stacks all',
  spans: 'call spans + OTel SDK (the app registers it in both servers)',
};

/** Per ABBA pair, the agent's logins/s over raw's: one ratio per pair. */
function pairRatios(blocks) {
  const ratios = [];
  for (const pair of new Set(blocks.map((b) => b.pair))) {
    const raw = blocks.find((b) => b.pair === pair && b.side === 'raw');
    const agent = blocks.find((b) => b.pair === pair && b.side === 'agent');
    if (raw && agent) ratios.push(agent.perSecond / raw.perSecond);
  }
  return ratios;
}

/** Logins/s against raw: at least a share, or (A/A) within a distance of 1.00×. */
function rateVerdict(value, target) {
  if (target?.within) return { target: `1.00 ± ${target.within.toFixed(2)}×`, ok: Math.abs(value - 1) <= target.within };
  if (target?.rate) return { target: `≥ ${target.rate.toFixed(2)}×`, ok: value >= target.rate };
  return { target: '', ok: undefined };
}

export function e2eRows(e2e) {
  const rows = [];
  for (const [id, run] of Object.entries(e2e ?? {})) {
    const side = (s) => run.blocks.filter((b) => b.side === s);
    const latencies = (s) => side(s).flatMap((b) => b.latencies);
    const rate = (s) => summarize(side(s).map((b) => b.perSecond)).median;
    const ratio = summarize(pairRatios(run.blocks));
    const target = TARGETS[id];
    const name = `10. NTLM login over HTTP, demo server (leak fixed), ${run.concurrency} closed-loop keep-alive clients`;
    const config = LABELS[id] ?? id;
    const runs = `${run.pairs} ABBA pairs × ${run.blockMs / 1000} s`;
    rows.push({
      workload: name,
      config,
      raw: `${rate('raw').toFixed(0)} logins/s`,
      agent: `${rate('agent').toFixed(0)} logins/s`,
      figure: 'logins/s, agent / raw',
      value: ratio.median,
      median: fmtRatio(ratio.median),
      iqr: `${fmtRatio(ratio.q1)}–${fmtRatio(ratio.q3)}`,
      range: `${fmtRatio(ratio.min)}–${fmtRatio(ratio.max)}`,
      amortized: '',
      runs,
      ...rateVerdict(ratio.median, target),
    });
    const cpu = run.cpuUsPerLogin;
    if (cpu && Number.isFinite(cpu.raw) && Number.isFinite(cpu.agent)) {
      // The agent's own cost per login, beside what queueing makes of it in the rows around.
      rows.push({
        workload: name,
        config,
        raw: `${cpu.raw.toFixed(0)} µs`,
        agent: `${cpu.agent.toFixed(0)} µs`,
        figure: 'server CPU per login, agent / raw',
        value: cpu.agent / cpu.raw,
        median: fmtRatio(cpu.agent / cpu.raw),
        iqr: '',
        range: '',
        amortized: '',
        runs: 'all logins, warm-up included (/proc)',
        target: '',
        ok: undefined,
      });
    }
    for (const [q, key] of [[0.5, 'p50'], [0.99, 'p99']]) {
      const [raw, agent] = [quantile(latencies('raw'), q), quantile(latencies('agent'), q)];
      const value = agent / raw;
      const limit = target?.[key];
      rows.push({
        workload: name,
        config,
        raw: fmtMs(raw),
        agent: fmtMs(agent),
        figure: `${key} login latency, agent / raw`,
        value,
        median: fmtRatio(value),
        iqr: '',
        range: '',
        amortized: '',
        runs: `${latencies('raw').length} + ${latencies('agent').length} logins`,
        ...(limit ? { target: `≤ ${limit.toFixed(2)}×`, ok: value <= limit } : { target: '', ok: undefined }),
      });
    }
  }
  return rows;
}
