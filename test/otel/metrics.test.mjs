// OpenTelemetry metrics mirror the Prometheus set: for one run, every series of one has the same
// value in the other (an app with its own SDK, under the preload, on real handshakes).
import assert from 'node:assert/strict';
import { explain, runApp } from '../helpers/run-app.mjs';
import { parseMetrics } from '../helpers/prom-text.mjs';

/** Prometheus name → OpenTelemetry name, label → attribute, and which value of a point to compare. */
const MIRROR = [
  { prom: 'sspi_handles_live', otel: 'sspi.handle.count', labels: { kind: 'sspi.handle.kind', package: 'sspi.package', direction: 'sspi.handle.direction' } },
  { prom: 'sspi_handles_stale', otel: 'sspi.handle.stale.count', labels: { kind: 'sspi.handle.kind', reason: 'sspi.leak.reason' } },
  { prom: 'sspi_handles_opened_total', otel: 'sspi.handle.opened', labels: { kind: 'sspi.handle.kind', package: 'sspi.package' } },
  { prom: 'sspi_handles_closed_total', otel: 'sspi.handle.closed', labels: { kind: 'sspi.handle.kind', package: 'sspi.package' } },
  { prom: 'sspi_handles_leaked_total', otel: 'sspi.handle.leaked', labels: { kind: 'sspi.handle.kind', package: 'sspi.package', reason: 'sspi.leak.reason' } },
  { prom: 'sspi_handle_lifetime_seconds_count', otel: 'sspi.handle.lifetime', labels: { kind: 'sspi.handle.kind', package: 'sspi.package' }, value: (v) => v.count },
  { prom: 'sspi_calls_total', otel: 'sspi.call.duration', labels: { function: 'sspi.function', status: 'sspi.status' }, value: (v) => v.count },
  { prom: 'sspi_invalid_releases_total', otel: 'sspi.release.invalid', labels: { kind: 'sspi.handle.kind', reason: 'sspi.misuse.reason' } },
  { prom: 'sspi_out_of_order_releases_total', otel: 'sspi.release.out_of_order', labels: { kind: 'sspi.handle.kind' } },
  { prom: 'sspi_negotiations_total', otel: 'sspi.negotiations', labels: { package: 'sspi.package', negotiated: 'sspi.negotiated_package' } },
];

/** Non-zero series as `label=value,…` → value. */
function promSeries(samples, name, labels) {
  const out = {};
  for (const s of samples.filter((x) => x.name === name && x.value !== 0)) {
    out[Object.keys(labels).map((l) => `${l}=${s.labels[l]}`).join(',')] = s.value;
  }
  return out;
}

function otelSeries(metric, labels, value = (v) => v) {
  const out = {};
  for (const p of metric?.points ?? []) {
    const v = value(p.value);
    if (v === 0) continue;
    const key = Object.entries(labels).map(([l, a]) => `${l}=${p.attributes[a]}`).join(',');
    out[key] = (out[key] ?? 0) + v;
  }
  return out;
}

describe('OpenTelemetry metrics', function () {
  let prom;
  let otel;
  before(async function () {
    const run = await runApp('otel/metrics-agree.mjs', { env: { SSPI_AGENT_MAX_AGE_CONTEXT: '100ms', SSPI_AGENT_REPORT: '0' } });
    assert.equal(run.code, 0, explain(run));
    const [out] = run.results;
    prom = parseMetrics(out.prometheus);
    otel = out.otel;
  });

  for (const { prom: promName, otel: otelName, labels, value } of MIRROR) {
    it(`${otelName} agrees with ${promName}`, function () {
      const expected = promSeries(prom, promName, labels);
      assert.ok(Object.keys(expected).length > 0, `the run produces ${promName}`);
      assert.deepEqual(otelSeries(otel[otelName], labels, value), expected);
    });
  }

  it('sspi.call.duration and sspi.handle.lifetime sum to the Prometheus histograms, with the same buckets', function () {
    const sums = (metric, attribute) => {
      const out = {};
      for (const p of metric.points) out[p.attributes[attribute]] = (out[p.attributes[attribute]] ?? 0) + p.value.sum;
      return out;
    };
    const callSums = sums(otel['sspi.call.duration'], 'sspi.function');
    for (const s of prom.filter((x) => x.name === 'sspi_call_duration_seconds_sum')) {
      assert.ok(Math.abs(callSums[s.labels.function] - s.value) < 1e-9, s.labels.function);
    }
    const bounds = (name) => [...new Set(prom.filter((x) => x.name === name && x.labels.le !== '+Inf').map((x) => Number(x.labels.le)))];
    assert.deepEqual(otel['sspi.call.duration'].points[0].value.boundaries, bounds('sspi_call_duration_seconds_bucket'));
    assert.deepEqual(otel['sspi.handle.lifetime'].points[0].value.boundaries, bounds('sspi_handle_lifetime_seconds_bucket'));
  });

  it('sets units in OpenTelemetry style and names without _total', function () {
    const units = Object.fromEntries(Object.entries(otel).map(([name, m]) => [name, m.unit]));
    assert.equal(units['sspi.handle.count'], '{handle}');
    assert.equal(units['sspi.handle.opened'], '{handle}');
    assert.equal(units['sspi.handle.lifetime'], 's');
    assert.equal(units['sspi.call.duration'], 's');
    assert.equal(units['sspi.handle.oldest_age'], 's');
    for (const [name, m] of Object.entries(otel)) {
      assert.ok(!name.endsWith('_total') && !name.endsWith('_seconds'), name);
      assert.ok(m.description.length > 0, name);
    }
  });
});
