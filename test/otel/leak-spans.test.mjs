// Leak and misuse spans: linked to the span that was active where the handle was made, so a trace UI
// leads from the leak to the request that caused it. An app with its own SDK under the preload.
import assert from 'node:assert/strict';
import { explain, runApp } from '../helpers/run-app.mjs';

describe('OpenTelemetry leak spans', function () {
  let out;
  const spansNamed = (name) => out.spans.filter((s) => s.name === name);
  const byId = (spanId) => out.spans.find((s) => s.spanId === spanId);

  before(async function () {
    const run = await runApp('otel/leak-links.mjs', { env: { SSPI_AGENT_STACKS: 'all' } });
    assert.equal(run.code, 0, explain(run));
    out = run.results.at(-1);
    assert.ok(out?.spans, explain(run));
  });

  it('exports a span per handle live at a normal exit, linked to the call span of the request that made it', function () {
    const leaks = spansNamed('sspi.leak');
    assert.deepEqual(leaks.map((s) => s.attributes['sspi.handle.kind']).sort(), ['context', 'credential']);
    for (const leak of leaks) {
      // A trace of its own (it was found at exit, not in a request) ...
      assert.equal(leak.parentSpanId, undefined);
      assert.notEqual(leak.traceId, out.requests.leaky.traceId);
      assert.deepEqual(leak.status.code, 2);
      // ... linked to the span of the call that created the handle, a child of the leaky request.
      assert.equal(leak.links.length, 1);
      const [link] = leak.links;
      assert.equal(link.traceId, out.requests.leaky.traceId);
      const creator = byId(link.spanId);
      assert.ok(creator, 'the link points at a span the app exported');
      assert.equal(creator.name, leak.attributes['sspi.handle.created_by']);
      assert.equal(creator.parentSpanId, out.requests.leaky.spanId);
      assert.equal(link.attributes['sspi.handle.id'], leak.attributes['sspi.handle.id']);
    }
  });

  it('describes the leak: kind, package, direction, reason, age, allocation stack, history', function () {
    const context = spansNamed('sspi.leak').find((s) => s.attributes['sspi.handle.kind'] === 'context');
    const a = context.attributes;
    assert.equal(a['sspi.leak.reason'], 'exit');
    assert.equal(a['sspi.package'], 'NTLM');
    assert.equal(a['sspi.handle.direction'], 'outbound');
    assert.equal(a['sspi.handle.created_by'], 'InitializeSecurityContextW');
    assert.equal(a['sspi.library'], 'libwinpr2.so.2');
    assert.equal(typeof a['sspi.handle.age'], 'number');
    assert.ok(a['sspi.handle.age'] >= 0 && a['sspi.handle.age'] < 30);
    assert.match(a['code.stacktrace'], /leak-links\.mjs:\d+/);
    assert.doesNotMatch(a['code.stacktrace'], /node_modules[\\/]@opentelemetry/, 'no SDK frames in the app stack');
    assert.deepEqual(a['sspi.handle.history'], ['InitializeSecurityContextW SEC_I_CONTINUE_NEEDED +0ms']);
  });

  it('exports a double free as a child of the request that did it, linked to the acquiring call', function () {
    const [misuse, ...more] = spansNamed('sspi.misuse').filter((s) => s.attributes['sspi.misuse.reason'] === 'double');
    assert.ok(misuse);
    assert.equal(more.length, 0);
    assert.equal(misuse.parentSpanId, out.requests.secondFree.spanId);
    assert.equal(misuse.attributes['sspi.function'], 'FreeCredentialsHandle');
    assert.equal(misuse.attributes['sspi.handle.released_by'], 'FreeCredentialsHandle');
    assert.match(misuse.attributes['sspi.call.stacktrace'], /leak-links\.mjs:\d+/);
    const [link] = misuse.links;
    const acquire = byId(link.spanId);
    assert.equal(acquire.name, 'AcquireCredentialsHandleW');
    assert.equal(acquire.parentSpanId, out.requests.acquire.spanId);
  });

  it('exports an out-of-order release linked to the credential and its live contexts', function () {
    const misuse = spansNamed('sspi.misuse').find((s) => s.attributes['sspi.misuse.reason'] === 'out_of_order');
    assert.ok(misuse);
    assert.equal(misuse.parentSpanId, out.requests.outOfOrder.spanId);
    assert.equal(misuse.attributes['sspi.handle.live_contexts'], 1);
    assert.deepEqual(misuse.links.map((l) => byId(l.spanId).name), ['AcquireCredentialsHandleW', 'InitializeSecurityContextW']);
  });

  it('links to the request span itself when call spans are off', async function () {
    const run = await runApp('otel/leak-links.mjs', { env: { SSPI_AGENT_CALL_SPANS: '0' } });
    assert.equal(run.code, 0, explain(run));
    const off = run.results.at(-1);
    const leaks = off.spans.filter((s) => s.name === 'sspi.leak');
    assert.equal(leaks.length, 2);
    for (const leak of leaks) assert.deepEqual(leak.links.map((l) => l.spanId), [off.requests.leaky.spanId]);
  });

  it('makes no leak spans with SSPI_AGENT_LEAK_SPANS=0', async function () {
    const run = await runApp('otel/leak-links.mjs', { env: { SSPI_AGENT_LEAK_SPANS: '0' } });
    assert.equal(run.code, 0, explain(run));
    const names = run.results.at(-1).spans.map((s) => s.name);
    assert.ok(!names.includes('sspi.leak') && !names.includes('sspi.misuse'), names.join());
    assert.ok(names.includes('AcquireCredentialsHandleW'));
  });
});
