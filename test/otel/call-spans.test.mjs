// Call spans: apps with their own OpenTelemetry SDK (in-memory exporter), run under
// `node --import sspi-agent`, on real NTLM handshakes.
import assert from 'node:assert/strict';
import { explain, runApp } from '../helpers/run-app.mjs';

const SSPI_SPANS = new Set([
  'AcquireCredentialsHandleW',
  'InitializeSecurityContextW',
  'AcceptSecurityContext',
  'CompleteAuthToken',
  'DeleteSecurityContext',
  'FreeCredentialsHandle',
]);

function result(run) {
  assert.equal(run.code, 0, explain(run));
  const [out] = run.results;
  assert.ok(out, explain(run));
  return out;
}

describe('OpenTelemetry call spans', function () {
  let out;
  before(async function () {
    out = result(await runApp('otel/call-spans.mjs'));
  });

  it('makes one INTERNAL span per SSPI call of a handshake, child of the request span active at the call', function () {
    const ok = out.spans.filter((s) => s.traceId === out.requests.ok.traceId && s.scope === 'sspi-agent');
    const count = (name) => ok.filter((s) => s.name === name).length;
    // A handshake: two acquires, ISC twice, ASC twice, CompleteAuthToken, two deletes, two frees.
    assert.deepEqual(
      Object.fromEntries([...SSPI_SPANS].map((n) => [n, count(n)])),
      { AcquireCredentialsHandleW: 2, InitializeSecurityContextW: 2, AcceptSecurityContext: 2, CompleteAuthToken: 1, DeleteSecurityContext: 2, FreeCredentialsHandle: 2 },
    );
    for (const span of ok) {
      assert.equal(span.parentSpanId, out.requests.ok.spanId, span.name);
      assert.equal(span.kind, 0, 'SpanKind.INTERNAL');
      assert.equal(span.attributes['sspi.function'], span.name);
      assert.ok(span.durationMs >= 0 && span.durationMs < 1000, `${span.name} lasted ${span.durationMs} ms`);
    }
  });

  it('makes an .async call’s span a child of the request span active when it was issued', function () {
    assert.deepEqual(out.requests.asyncStatuses, [0, 0]);
    const spans = out.spans.filter((s) => s.scope === 'sspi-agent' && (s.name === 'AcquireCredentialsHandleW' || s.name === 'FreeCredentialsHandle'));
    const issued = spans.filter((s) => s.traceId === out.requests.async.traceId);
    assert.deepEqual(issued.map((s) => s.name), ['AcquireCredentialsHandleW', 'FreeCredentialsHandle']);
    for (const span of issued) assert.equal(span.parentSpanId, out.requests.async.spanId, span.name);
    assert.deepEqual(spans.filter((s) => !s.parentSpanId), [], 'no root call span');
  });

  it('gives each span its package, status name and code, credential use and handle kind', function () {
    const ok = out.spans.filter((s) => s.traceId === out.requests.ok.traceId && s.scope === 'sspi-agent');
    const acquires = ok.filter((s) => s.name === 'AcquireCredentialsHandleW').map((s) => s.attributes);
    assert.deepEqual(acquires.map((a) => a['sspi.credential_use']).sort(), ['inbound', 'outbound']);
    for (const a of acquires) {
      assert.equal(a['sspi.handle.kind'], 'credential');
      assert.equal(a['sspi.package'], 'NTLM');
      assert.equal(a['sspi.status'], 'SEC_E_OK');
      assert.equal(a['sspi.status_code'], 0);
    }
    const accept = ok.find((s) => s.name === 'AcceptSecurityContext' && s.attributes['sspi.status'] === 'SEC_I_COMPLETE_NEEDED');
    assert.ok(accept, 'the second AcceptSecurityContext');
    assert.deepEqual(accept.status, { code: 0 });
    assert.equal(accept.attributes['sspi.status_code'], 0x00090313);
    assert.equal(accept.attributes['sspi.handle.kind'], 'context');
    assert.equal(accept.attributes['sspi.handle.direction'], 'inbound');
    assert.equal(accept.attributes['sspi.package'], 'NTLM');
    const deletes = ok.filter((s) => s.name === 'DeleteSecurityContext').map((s) => s.attributes['sspi.handle.direction']);
    assert.deepEqual(deletes.sort(), ['inbound', 'outbound']);
  });

  it('names the package Negotiate ran on its handshake spans (WinPR: NTLM), and on no other span', function () {
    const spans = out.spans.filter((s) => s.traceId === out.requests.negotiate.traceId && s.scope === 'sspi-agent');
    const handshake = spans.filter((s) => s.name === 'InitializeSecurityContextW' || s.name === 'AcceptSecurityContext');
    assert.equal(handshake.length, 4);
    for (const span of handshake) {
      assert.equal(span.attributes['sspi.package'], 'Negotiate', span.name);
      assert.equal(span.attributes['sspi.negotiated_package'], 'NTLM', span.name);
    }
    const others = out.spans.filter((s) => s.scope === 'sspi-agent' && !handshake.includes(s));
    assert.deepEqual(others.filter((s) => 'sspi.negotiated_package' in s.attributes), []);
  });

  it('marks a failed call ERROR with its status (a rejected login: CompleteAuthToken)', function () {
    const rejected = out.spans.filter((s) => s.traceId === out.requests.rejected.traceId && s.name === 'CompleteAuthToken');
    assert.equal(rejected.length, 1);
    const [span] = rejected;
    assert.equal(span.parentSpanId, out.requests.rejected.spanId);
    assert.deepEqual(span.status, { code: 2, message: 'SEC_E_MESSAGE_ALTERED' });
    assert.equal(span.attributes['sspi.status'], 'SEC_E_MESSAGE_ALTERED');
    assert.equal(span.attributes['sspi.status_code'], 0x8009030f);
    assert.equal(span.attributes['error.type'], 'SEC_E_MESSAGE_ALTERED');
  });

  it('traces only the calls that work on a handle’s life (no query, signature or buffer spans)', function () {
    const names = new Set(out.spans.filter((s) => s.scope === 'sspi-agent').map((s) => s.name));
    assert.deepEqual([...names].filter((n) => !SSPI_SPANS.has(n)), []);
  });

  it('makes none with SSPI_AGENT_CALL_SPANS=0', async function () {
    const off = result(await runApp('otel/call-spans.mjs', { env: { SSPI_AGENT_CALL_SPANS: '0' } }));
    assert.deepEqual(off.spans.map((s) => s.name).sort(), ['acquire async', 'login negotiate', 'login ok', 'login rejected']);
  });

  it('makes none with SSPI_AGENT_OTEL=off', async function () {
    const off = result(await runApp('otel/call-spans.mjs', { env: { SSPI_AGENT_OTEL: 'off' } }));
    assert.deepEqual(off.spans.map((s) => s.name).sort(), ['acquire async', 'login negotiate', 'login ok', 'login rejected']);
  });

  it('asks the OpenTelemetry API for no tracer and no span when no SDK is registered', async function () {
    const run = await runApp('otel/no-sdk.mjs');
    assert.equal(run.code, 0, explain(run));
    assert.deepEqual(run.results.at(-1), { getTracer: 0, startSpan: 0 });
  });
});
