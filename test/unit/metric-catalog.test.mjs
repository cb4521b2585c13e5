// The metric catalog is the one description of the agent's metrics: both exporters show exactly its
// entries (names, help, units, types, labels), its status cap holds in both, and the docs' tables are
// what it generates.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { agentError, setMessageSink } from '../../dist/diagnostics.js';
import { PrometheusExporter } from '../../dist/exporters/prometheus.js';
import { OtelMetricsExporter } from '../../dist/exporters/otel-metrics.js';
import { CATALOG, MAX_STATUSES_PER_FUNCTION } from '../../dist/metrics/catalog.js';
import { otelInstrument, otelViews, prometheusViews } from '../../dist/metrics/model.js';
import { HandleRegistry } from '../../dist/core/registry.js';
import { renderOtelDoc } from '../../scripts/readme-tables.mjs';
import { parseMetrics } from '../helpers/prom-text.mjs';

/** Every registry event a metric follows, at least once, and an agent error: every metric has a series. */
function exercise(registry) {
  const opening = { package: 'NTLM', direction: 'outbound', library: 'secur32.dll' };
  const credential = registry.open({ ...opening, kind: 'credential', key: 'c1', createdBy: 'AcquireCredentialsHandleW' });
  registry.open({ ...opening, kind: 'context', key: 'x1', createdBy: 'InitializeSecurityContextW', credential });
  registry.release('credential', 'c1', 0, 'FreeCredentialsHandle'); // closed while its context lives: out of order
  registry.release('context', 'never-seen', 0, 'DeleteSecurityContext');
  registry.recordCall('InitializeSecurityContextW', 0x00090312, 0.001);
  const buffer = registry.open({ ...opening, kind: 'buffer', key: 'b1', createdBy: 'QuerySecurityPackageInfoW' });
  registry.forcedRelease(buffer, 0, 'api');
  const negotiating = registry.open({ ...opening, package: 'Negotiate', kind: 'context', key: 'n1', createdBy: 'AcceptSecurityContext' });
  registry.negotiate(negotiating, 'Kerberos', true);
  registry.unloadedWithLiveHandles('secur32.dll', registry.settled().liveHandles());
  registry.declareLeaks('exit');
  setMessageSink(() => {});
  try {
    agentError('test.catalog', new Error('counted, not shown'));
  } finally {
    setMessageSink((m) => process.stderr.write(m));
  }
}

/** `# HELP` and `# TYPE` of each metric in exposition text. */
function described(text) {
  const out = new Map();
  for (const [, what, name, rest] of text.matchAll(/^# (HELP|TYPE) (\S+) (.*)$/gm)) {
    out.set(name, { ...out.get(name), [what.toLowerCase()]: rest });
  }
  return out;
}

async function otelExport(registry, drive) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('test');
  const otel = new OtelMetricsExporter(registry, () => meter);
  const unsubscribe = registry.subscribe(otel.events);
  try {
    drive(registry);
    await reader.forceFlush();
    return exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
  } finally {
    unsubscribe();
    otel.stop();
    await provider.shutdown();
  }
}

const SDK_TYPES = {
  Counter: 'COUNTER',
  Histogram: 'HISTOGRAM',
  ObservableCounter: 'OBSERVABLE_COUNTER',
  ObservableUpDownCounter: 'OBSERVABLE_UP_DOWN_COUNTER',
  ObservableGauge: 'OBSERVABLE_GAUGE',
};

describe('metric catalog', function () {
  it('is what a scrape shows: every entry with its help, type and labels, and nothing else', async function () {
    const registry = new HandleRegistry();
    const exporter = new PrometheusExporter(registry);
    exercise(registry);
    const text = await exporter.metrics();
    exporter.stop();
    const views = prometheusViews(CATALOG);
    const shown = described(text);
    assert.deepEqual([...shown.keys()].sort(), views.map((v) => v.name).sort());
    const samples = parseMetrics(text);
    for (const view of views) {
      assert.deepEqual(shown.get(view.name), { help: view.help, type: view.def.type }, view.name);
      const own = samples.filter((s) => s.name.replace(/_(bucket|sum|count)$/, '') === view.name || s.name === view.name);
      assert.ok(own.length > 0, `${view.name} has a series`);
      for (const s of own) {
        const names = Object.keys(s.labels).filter((l) => l !== 'le');
        assert.deepEqual(names, view.labels.map((l) => l.name), `${s.name} labels`);
      }
    }
  });

  it('is what an OpenTelemetry export holds: every twin with its description, unit, instrument and attributes, and nothing else', async function () {
    const metrics = await otelExport(new HandleRegistry(), exercise);
    const views = otelViews(CATALOG);
    assert.deepEqual(metrics.map((m) => m.descriptor.name).sort(), views.map((v) => v.name).sort());
    for (const view of views) {
      const metric = metrics.find((m) => m.descriptor.name === view.name);
      const { description, unit, type } = metric.descriptor;
      assert.deepEqual({ description, unit, type }, { description: view.help, unit: view.def.unit, type: SDK_TYPES[otelInstrument(view.def)] }, view.name);
      assert.ok(metric.dataPoints.length > 0, `${view.name} has a data point`);
      for (const point of metric.dataPoints) assert.deepEqual(Object.keys(point.attributes), view.labels.map((l) => l.attribute), `${view.name} attributes`);
      if (view.def.buckets) for (const point of metric.dataPoints) assert.deepEqual(point.value.buckets.boundaries, view.def.buckets, `${view.name} buckets`);
    }
  });

  it('scrapes at 0 the series its zeroes list: from the start, and with the first handle of a kind and package', async function () {
    const registry = new HandleRegistry();
    const exporter = new PrometheusExporter(registry);
    const views = prometheusViews(CATALOG).filter((v) => v.def.zeroes);
    const value = (samples, view, values) => {
      const name = view.def.type === 'histogram' ? `${view.name}_count` : view.name;
      const labels = Object.fromEntries(view.labels.map((l, i) => [l.name, values[i]]));
      return samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
    };
    const atStart = parseMetrics(await exporter.metrics());
    registry.open({ kind: 'context', key: 'k1', package: 'Kerberos', direction: 'inbound', createdBy: 'AcceptSecurityContext', library: 'secur32.dll' });
    const afterOpen = parseMetrics(await exporter.metrics());
    exporter.stop();
    let checked = 0;
    for (const view of views) {
      const { atStart: listed, perKindPackage } = view.def.zeroes;
      for (const values of listed ?? []) assert.equal(value(atStart, view, values), 0, `${view.name}${JSON.stringify(values)} at start`), checked++;
      for (const more of perKindPackage ?? []) {
        const values = ['context', 'Kerberos', ...more];
        assert.equal(value(atStart, view, values), undefined, `${view.name}${JSON.stringify(values)} not before its handle`);
        assert.equal(value(afterOpen, view, values), view.def.feed.event === 'onOpens' ? 1 : 0, `${view.name}${JSON.stringify(values)} with its handle`);
        checked++;
      }
    }
    assert.ok(checked > 20, `${checked} zero series checked`);
  });

  it("caps the status attribute of a function's calls in OpenTelemetry as in Prometheus", async function () {
    const metrics = await otelExport(new HandleRegistry(), (registry) => {
      for (let code = 0; code < 1000; code++) registry.recordCall('QueryContextAttributesW', 0xc0000000 + code, 0.000001);
    });
    const points = metrics.find((m) => m.descriptor.name === CATALOG.callDuration.otel.name).dataPoints;
    assert.equal(points.length, MAX_STATUSES_PER_FUNCTION + 1);
    const other = points.find((p) => p.attributes['sspi.status'] === 'other');
    assert.equal(other?.value.count, 1000 - MAX_STATUSES_PER_FUNCTION);
  });

  it("gives docs/opentelemetry.md its metrics table (npm run docs)", function () {
    const doc = readFileSync(new URL('../../docs/opentelemetry.md', import.meta.url), 'utf8');
    assert.equal(renderOtelDoc(doc), doc);
  });
});
