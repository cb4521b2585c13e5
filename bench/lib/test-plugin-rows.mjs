// Section 11: what sspi-agent/mocha adds per test (issue 22: ≤ 2 ms per test on 500 trivial tests),
// from pairs of runs of the same suite with and without the plugin's hooks, in one process.
import { fmtDelta, fmtIn } from './formats.mjs';
import { summarize } from './stats.mjs';

const fmt = (ms) => fmtIn(ms, 'ms', 3);
const signed = (ms) => fmtDelta(ms, 'ms', 3);

export function testPluginRows(runs) {
  return (runs ?? []).map((run) => {
    const added = summarize(run.pairs.map((p) => (p.plugin - p.bare) / run.tests));
    const bare = summarize(run.pairs.map((p) => p.bare / run.tests)).median;
    const plugin = summarize(run.pairs.map((p) => p.plugin / run.tests)).median;
    return {
      workload: `11. mocha, ${run.tests} trivial tests${run.live ? `, ${run.live} handles live` : ''}`,
      config: 'sspi-agent/mocha, default settings',
      raw: `${fmt(bare)} / test`,
      agent: `${fmt(plugin)} / test`,
      figure: 'time added per test, plugin − none',
      value: added.median,
      median: signed(added.median),
      iqr: `${fmt(added.q1)}–${fmt(added.q3)}`,
      range: `${fmt(added.min)}–${fmt(added.max)}`,
      amortized: '',
      runs: `${run.pairs.length} pairs of suite runs (ABBA)`,
      target: '≤ 2 ms',
      ok: Number.isFinite(added.median) && added.median <= 2,
    };
  });
}
