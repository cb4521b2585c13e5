// Call spans: apps with their own OpenTelemetry SDK (in-memory exporter), run under
// `node --import sspi-agent`, on real NTLM handshakes.
import assert from 'node:assert/strict';
import { explain, runApp } from '../helpers/run-app.mjs';

/** A handshake's calls that do work: two acquires, ISC twice, ASC twice, CompleteAuthToken. */
const WORK_SPANS = { AcquireCredentialsHandleW: 2, InitializeSecurityContextW: 2, AcceptSecurityContext: 2, CompleteAuthToken: 1 };
/** With SSPI_AGENT_CALL_SPANS=all, also its two deletes and two frees. */
const ALL_SPANS = { ...WORK_SPANS, DeleteSecurityContext: 2, FreeCredentialsHandle: 2 };

/** How many spans of each name a request's trace has. */
function countsIn(out, request) {
  const counts = {};
  for (const s of out.spans) if (s.traceId === out.requests[request].traceId && s.scope === 'sspi-agent') counts[s.name] = (counts[s.name] ?? 0) + 1;
  return counts;
}

function result(run) {
  assert.equal(run.code, 0, explain(run));
  const [out] = run.results;
  assert.ok(out, explain(run));
  return out;
}

describe('OpenTelemetry call spans', function () {
  let out;
  let all;
  before(async function () {
    out = result(await runApp('otel/call-spans.mjs'));
    all = result(await runApp('otel/call-spans.mjs', { env: { SSPI_AGENT_CALL_SPANS: 'all' } }));
  });

  it('makes one INTERNAL span per SSPI call of a handshake that does work, child of the request span active at the call', function () {
    assert.deepEqual(countsIn(out, 'ok'), WORK_SPANS, 'no span for the deletes and frees');
    const ok = out.spans.filter((s) => s.traceId === out.requests.ok.traceId && s.scope === 'sspi-agent');
    for (const span of ok) {
      assert.equal(span.parentSpanId, out.requests.ok.spanId, span.name);
      assert.equal(span.kind, 0, 'SpanKind.INTERNAL');
      assert.equal(span.attributes['sspi.function'], span.name);
      assert.ok(span.durationMs >= 0 && span.durationMs < 1000, `${span.name} lasted ${span.durationMs} ms`);
    }
  });

  it('with SSPI_AGENT_CALL_SPANS=all, also makes one for each delete and free, child of the request span', function () {
    assert.deepEqual(countsIn(all, 'ok'), ALL_SPANS);
    const ok = all.spans.filter((s) => s.traceId === all.requests.ok.traceId && s.scope === 'sspi-agent');
    for (const span of ok) assert.equal(span.parentSpanId, all.requests.ok.spanId, span.name);
    const deletes = ok.filter((s) => s.name === 'DeleteSecurityContext').map((s) => s.attributes['sspi.handle.direction']);
    assert.deepEqual(deletes.sort(), ['inbound', 'outbound']);
  });

  it('builds the spans when the calls are applied, with the calls’ own times inside the request, and settle() applies them now', function () {
    assert.deepEqual([out.requests.spansBeforeSettle, out.requests.spansAfterSettle], [0, 7]);
    const request = out.spans.find((s) => s.spanId === out.requests.ok.spanId);
    const ok = out.spans.filter((s) => s.traceId === out.requests.ok.traceId && s.scope === 'sspi-agent');
    // The SDK reads Date.now() in whole milliseconds once per span (the request's start, each call
    // span's offset to performance.now()), and a busy VM's wall clock moves against the monotonic one
    // between two reads: 2 ms for both. The spans were built 20 ms after the request ended, so a span
    // timed at batch time would still be far outside.
    for (const span of ok) {
      const where = `${span.name} [${span.startMs}, ${span.endMs}] within the request span [${request.startMs}, ${request.endMs}]`;
      assert.ok(span.startMs >= request.startMs - 2 && span.endMs <= request.endMs + 2, where);
    }
  });

  it('makes an .async call’s span a child of the request span active when it was issued', function () {
    for (const [run, names] of [[out, ['AcquireCredentialsHandleW']], [all, ['AcquireCredentialsHandleW', 'FreeCredentialsHandle']]]) {
      assert.deepEqual(run.requests.asyncStatuses, [0, 0]);
      const spans = run.spans.filter((s) => s.scope === 'sspi-agent' && (s.name === 'AcquireCredentialsHandleW' || s.name === 'FreeCredentialsHandle'));
      const issued = spans.filter((s) => s.traceId === run.requests.async.traceId);
      assert.deepEqual(issued.map((s) => s.name), names);
      for (const span of issued) assert.equal(span.parentSpanId, run.requests.async.spanId, span.name);
      assert.deepEqual(spans.filter((s) => !s.parentSpanId), [], 'no root call span');
      // Its times: from the call's issue to its callback, inside the request (2 ms, as above), the
      // acquire's before the free's, which was issued after the acquire's callback.
      const request = run.spans.find((s) => s.spanId === run.requests.async.spanId);
      for (const span of issued) {
        const where = `${span.name} [${span.startMs}, ${span.endMs}] within the request span [${request.startMs}, ${request.endMs}]`;
        assert.ok(span.startMs >= request.startMs - 2 && span.endMs <= request.endMs + 2 && span.endMs >= span.startMs, where);
      }
      if (issued.length === 2) assert.ok(issued[0].startMs <= issued[1].startMs, `${issued[0].name} issued before ${issued[1].name}`);
    }
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
    for (const [run, expected] of [[out, WORK_SPANS], [all, ALL_SPANS]]) {
      const names = new Set(run.spans.filter((s) => s.scope === 'sspi-agent').map((s) => s.name));
      assert.deepEqual([...names].filter((n) => !(n in expected)), []);
    }
  });

  it('makes none with SSPI_AGENT_CALL_SPANS=0', async function () {
    const off = result(await runApp('otel/call-spans.mjs', { env: { SSPI_AGENT_CALL_SPANS: '0' } }));
    assert.deepEqual(off.spans.map((s) => s.name).sort(), ['acquire async', 'login negotiate', 'login ok', 'login rejected']);
  });

  it('makes none with SSPI_AGENT_OTEL=off', async function () {
    const off = result(await runApp('otel/call-spans.mjs', { env: { SSPI_AGENT_OTEL: 'off' } }));
    assert.deepEqual(off.spans.map((s) => s.name).sort(), ['acquire async', 'login negotiate', 'login ok', 'login rejected']);
  });

  it('asks the SDK once per batch, not per call: ten logins look up the tracer and meter as often as one', async function () {
    const run = result(await runApp('otel/per-call-asks.mjs'));
    const [one, ten] = run.bursts;
    assert.ok(one.lookups > 0, 'the watch on the providers saw the batch’s first call ask');
    assert.equal(ten.lookups, one.lookups, `provider lookups: ${one.lookups} for 1 login, ${ten.lookups} for 10`);
    // And the calls carried their caller's context: each login's calls that do work got their span,
    // a child of the burst's request span.
    const perLogin = Object.values(WORK_SPANS).reduce((a, b) => a + b, 0);
    for (const burst of run.bursts) {
      const children = run.callSpans.filter((s) => s.parentSpanId === burst.spanId);
      assert.equal(children.length, perLogin * burst.logins, `call spans under "logins ${burst.logins}"`);
    }
  });

  it('asks the OpenTelemetry API for no tracer and no span when no SDK is registered', async function () {
    const run = await runApp('otel/no-sdk.mjs');
    assert.equal(run.code, 0, explain(run));
    assert.deepEqual(run.results.at(-1), { getTracer: 0, startSpan: 0 });
  });
});
