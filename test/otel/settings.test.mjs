// The OpenTelemetry settings and when the agent starts an SDK of its own (unit level, no process).
import assert from 'node:assert/strict';
import { readConfig } from '../../dist/config-reader.js';
import { otelVariablesAskForExport, SdkBootstrap } from '../../dist/otel/bootstrap.js';
import { CALL_SPAN_FUNCTIONS } from '../../dist/otel/semconv.js';
import { sspiFunction } from '../../dist/sspi/functions.js';

const quiet = () => {};

describe('OpenTelemetry settings', function () {
  it('reads SSPI_AGENT_OTEL, its aliases, and the span and flush settings', function () {
    assert.equal(readConfig({}, quiet).otel, 'auto');
    assert.equal(readConfig({ SSPI_AGENT_OTEL: '1' }, quiet).otel, 'sdk');
    assert.equal(readConfig({ SSPI_AGENT_OTEL: '0' }, quiet).otel, 'off');
    assert.equal(readConfig({ SSPI_AGENT_OTEL: 'GLOBAL' }, quiet).otel, 'global');
    const warnings = [];
    assert.equal(readConfig({ SSPI_AGENT_OTEL: 'maybe' }, (m) => warnings.push(m)).otel, 'auto');
    assert.match(warnings[0], /SSPI_AGENT_OTEL="maybe" is not valid/);
    const c = readConfig({ SSPI_AGENT_CALL_SPANS: '0', SSPI_AGENT_LEAK_SPANS: 'off', SSPI_AGENT_OTEL_FLUSH_TIMEOUT: '500ms' }, quiet);
    assert.deepEqual([c.callSpans, c.leakSpans, c.otelFlushTimeout], ['off', false, 500]);
    assert.equal(readConfig({}, quiet).callSpans, 'work');
    assert.equal(readConfig({ SSPI_AGENT_CALL_SPANS: '1' }, quiet).callSpans, 'work');
    assert.equal(readConfig({ SSPI_AGENT_CALL_SPANS: 'ALL' }, quiet).callSpans, 'all');
    const spanWarnings = [];
    assert.equal(readConfig({ SSPI_AGENT_CALL_SPANS: 'deletes' }, (m) => spanWarnings.push(m)).callSpans, 'work');
    assert.match(spanWarnings[0], /SSPI_AGENT_CALL_SPANS="deletes" is not valid/);
  });

  it('starts an SDK in auto mode only when OTEL_* variables ask for export', function () {
    assert.equal(otelVariablesAskForExport({}), false);
    assert.equal(otelVariablesAskForExport({ OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' }), false);
    assert.equal(otelVariablesAskForExport({ OTEL_SERVICE_NAME: 'x' }), false);
    assert.equal(otelVariablesAskForExport({ OTEL_TRACES_EXPORTER: 'otlp' }), true);
    assert.equal(otelVariablesAskForExport({ OTEL_METRICS_EXPORTER: 'none,prometheus' }), true);
    assert.equal(otelVariablesAskForExport({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
    assert.equal(otelVariablesAskForExport({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }), true);
  });

  it('prepares no bootstrap when off, global, disabled, or not asked', function () {
    const asked = { OTEL_TRACES_EXPORTER: 'otlp' };
    assert.equal(SdkBootstrap.prepare('off', asked), undefined);
    assert.equal(SdkBootstrap.prepare('global', asked), undefined);
    assert.equal(SdkBootstrap.prepare('auto', { ...asked, OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.equal(SdkBootstrap.prepare('sdk', { OTEL_SDK_DISABLED: 'TRUE' }), undefined);
    assert.equal(SdkBootstrap.prepare('auto', {}), undefined);
    assert.ok(SdkBootstrap.prepare('auto', asked));
    assert.ok(SdkBootstrap.prepare('sdk', {}));
  });

  it('traces only functions the agent wraps, releases only with `all`', function () {
    for (const name of CALL_SPAN_FUNCTIONS.all) assert.ok(sspiFunction(name), name);
    const releases = [...CALL_SPAN_FUNCTIONS.all].filter((name) => !CALL_SPAN_FUNCTIONS.work.has(name));
    assert.deepEqual(releases.sort(), ['DeleteSecurityContext', 'FreeCredentialsHandle']);
    assert.deepEqual([...CALL_SPAN_FUNCTIONS.work].filter((name) => /^(Delete|Free)/.test(name)), []);
    assert.equal(CALL_SPAN_FUNCTIONS.off.size, 0);
  });
});
