// Hostile or odd values cannot grow the number of series: bounded, documented label sets.
import assert from 'node:assert/strict';
import { HandleRegistry } from '../../dist/core/registry.js';
import { PrometheusExporter } from '../../dist/exporters/prometheus.js';
import { MAX_STATUSES_PER_FUNCTION } from '../../dist/metrics/catalog.js';
import { packageLabel } from '../../dist/sspi/packages.js';

describe('bounded cardinality', function () {
  it('collapses 10k distinct package names into the known set plus other', async function () {
    const registry = new HandleRegistry();
    const exporter = new PrometheusExporter(registry);
    for (let i = 0; i < 10_000; i++) {
      registry.open({ kind: 'credential', key: `k${i}`, package: packageLabel(`evil-package-${i}"}\n`), direction: 'outbound', createdBy: 'AcquireCredentialsHandleW', library: 'x' });
    }
    const text = await exporter.metrics();
    const live = text.split('\n').filter((l) => l.startsWith('sspi_handles_live{'));
    assert.deepEqual(live, ['sspi_handles_live{kind="credential",package="other",direction="outbound"} 10000']);
  });

  it('caps the status labels of a function', async function () {
    const registry = new HandleRegistry();
    const exporter = new PrometheusExporter(registry);
    for (let code = 0; code < 10_000; code++) registry.recordCall('QueryContextAttributesW', 0xc0000000 + code, 0.000001);
    const lines = (await exporter.metrics()).split('\n').filter((l) => l.startsWith('sspi_calls_total{'));
    assert.equal(lines.length, MAX_STATUSES_PER_FUNCTION + 1);
    assert.ok(lines.includes(`sspi_calls_total{function="QueryContextAttributesW",status="other"} ${10_000 - MAX_STATUSES_PER_FUNCTION}`));
  });
});
