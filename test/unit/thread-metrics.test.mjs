// The process's metrics and report from several threads' agents: merged by each metric's aggregator,
// an ended thread's leftovers, a worker's report beside the main thread's.
import assert from 'node:assert/strict';
import { HandleRegistry } from '../../dist/core/registry.js';
import { PrometheusExporter } from '../../dist/exporters/prometheus.js';
import { endedThreadMetrics, exposition, mergeSnapshots } from '../../dist/exporters/merged-metrics.js';
import { withThreadReports } from '../../dist/exporters/thread-reports.js';
import { EndedWorkers } from '../../dist/workers/ended-workers.js';
import { buildLeakReport } from '../../dist/exporters/leak-report.js';

function threadWith(live) {
  const registry = new HandleRegistry();
  const exporter = new PrometheusExporter(registry);
  for (let i = 0; i < live; i++) registry.open({ kind: 'credential', key: BigInt(i + 1), package: 'NTLM', direction: 'outbound', createdBy: 'AcquireCredentialsHandleW', library: 'x' });
  registry.recordCall('AcquireCredentialsHandleW', 0, 0.00002);
  return { registry, exporter };
}

const line = (text, prefix) => text.split('\n').find((l) => l.startsWith(prefix));

describe("several threads' metrics as one", function () {
  it('adds counters, gauges and histograms label set by label set, and takes the largest oldest age', async function () {
    const a = threadWith(2);
    const b = threadWith(3);
    const snapshots = [a.exporter.snapshot(), b.exporter.snapshot()];
    const merged = mergeSnapshots(snapshots);
    const text = await exposition(merged);
    assert.equal(line(text, 'sspi_handles_live{'), 'sspi_handles_live{kind="credential",package="NTLM",direction="outbound"} 5');
    assert.equal(line(text, 'sspi_handles_opened_total{'), 'sspi_handles_opened_total{kind="credential",package="NTLM"} 5');
    assert.equal(line(text, 'sspi_call_duration_seconds_count{'), 'sspi_call_duration_seconds_count{function="AcquireCredentialsHandleW"} 2');
    const oldest = (metrics) => metrics.find((m) => m.name === 'sspi_handle_oldest_age_seconds').values.find((v) => v.labels.kind === 'credential').value;
    assert.equal(oldest(merged), Math.max(...snapshots.map(oldest)), 'the largest, not the sum');
  });

  it('keeps what an ended thread leaves: its counts and its live handles, not its ages', function () {
    const kept = endedThreadMetrics(threadWith(1).exporter.snapshot()).map((m) => m.name);
    assert.ok(kept.includes('sspi_handles_opened_total') && kept.includes('sspi_handles_live'));
    assert.ok(!kept.includes('sspi_handle_oldest_age_seconds') && !kept.includes('sspi_handles_stale'));
  });

  it("ages the handles ended threads left live on the reading thread's clock, the oldest of them per kind", function () {
    const ended = new EndedWorkers();
    const ageOf = (metrics) => metrics.find((m) => m.name === 'sspi_handle_oldest_age_seconds')?.values.find((v) => v.labels.kind === 'credential')?.value;
    const first = threadWith(1).exporter.snapshot();
    ended.add(first, 10_000);
    const reported = ageOf(first);
    assert.ok(reported > 0);
    assert.ok(Math.abs(ageOf(ended.metrics(12_000)) - (reported + 2)) < 1e-9, 'two seconds later, two seconds older');
    // A later thread's younger handle leaves the oldest as it was.
    ended.add(threadWith(1).exporter.snapshot(), 11_000);
    assert.ok(Math.abs(ageOf(ended.metrics(12_000)) - (reported + 2)) < 1e-9);
    assert.equal(ended.metrics(12_000).find((m) => m.name === 'sspi_handles_live').values[0].value, 2);
  });

  it("lets prom-client reset the agent's registry (resetMetrics)", async function () {
    const { exporter } = threadWith(1);
    exporter.registry.resetMetrics();
    const text = await exporter.metrics();
    assert.equal(line(text, 'sspi_handles_opened_total{'), 'sspi_handles_opened_total{kind="credential",package="NTLM"} 0');
    assert.equal(line(text, 'sspi_handles_live{'), 'sspi_handles_live{kind="credential",package="NTLM",direction="outbound"} 1', 'computed from state');
  });

  it("puts a worker's report beside the main thread's, each entry marked with its thread", function () {
    const main = threadWith(1).registry;
    const worker = threadWith(2).registry;
    const merged = withThreadReports(buildLeakReport(main.settled().liveHandles(), 'exit'), [{ threadId: 7, report: buildLeakReport(worker.settled().liveHandles(), 'worker exit') }]);
    assert.equal(merged.total, 3);
    assert.equal(merged.byKind.credential, 3);
    assert.deepEqual(merged.handles.map((h) => h.thread), [undefined, 7, 7]);
    assert.deepEqual(merged.groups.map((g) => g.thread), [undefined, 7]);
  });
});
