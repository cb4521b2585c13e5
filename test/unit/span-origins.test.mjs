// Where findings link: the span of the call that made the handle. The trace exporter keeps that per
// handle while it is live and for the handles released last (exporters/span-origins.ts), and lets go
// of the rest.
import assert from 'node:assert/strict';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { HandleRegistry } from '../../dist/core/registry.js';
import { guardCall, recordBlockedCall, recordObservedCall } from '../../dist/core/lifecycle.js';
import { OtelTraceExporter } from '../../dist/exporters/otel-traces.js';
import { sspiFunction } from '../../dist/sspi/functions.js';
import { StackContextManager } from '../helpers/stack-context-manager.mjs';
import { acquire, free } from '../helpers/observed-calls.mjs';


/** A registry with the trace exporter, and a request span to make calls in. */
function traced() {
  const spans = new InMemorySpanExporter();
  const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] }).getTracer('test');
  const registry = new HandleRegistry();
  const exporter = new OtelTraceExporter({ tracer: () => tracer, callSpans: 'work', leakSpans: true });
  registry.subscribe(exporter);
  const request = tracer.startSpan('request');
  const inRequest = (fn) => context.with(trace.setSpan(context.active(), request), fn);
  return { spans, registry, exporter, inRequest };
}

/** Asserts that the finding span named `finding` links to exactly the first call span made. */
function assertLinksToFirstCall(spans, finding, message) {
  const made = spans.getFinishedSpans().find((s) => s.name === 'AcquireCredentialsHandleW');
  const span = spans.getFinishedSpans().find((s) => s.name === finding);
  assert.ok(made && span, `a call span and a ${finding} span`);
  assert.deepEqual(
    span.links.map((l) => l.context.spanId),
    [made.spanContext().spanId],
    message,
  );
}

/** A double release of `key`, as the guard stops it. */
function releaseAgain(registry, key) {
  const verdict = guardCall(registry, sspiFunction('FreeCredentialsHandle'), { credential: key });
  assert.equal(verdict?.reason, 'double');
  recordBlockedCall(registry, sspiFunction('FreeCredentialsHandle'), verdict, undefined);
}

describe('what findings link to', function () {
  beforeEach(() => context.setGlobalContextManager(new StackContextManager()));
  afterEach(() => context.disable());

  it('links a double release to the span of the call that made the handle, after its release was heard', function () {
    const { spans, registry, inRequest } = traced();
    inRequest(() => {
      recordObservedCall(registry, acquire(0x10n));
      recordObservedCall(registry, free(0x10n));
      registry.settled();
      releaseAgain(registry, 0x10n);
    });
    registry.settled();
    assertLinksToFirstCall(spans, 'sspi.misuse');
  });

  it('keeps the origins of handles that outlive thousands of others, and lets go of those released since', function () {
    const { spans, registry, exporter, inRequest } = traced();
    const kept = 0x7000_0000n;
    inRequest(() => recordObservedCall(registry, acquire(kept)));
    // Long-lived handles, released later: the ring of recent openings passes them on, live.
    const longLived = Array.from({ length: 5000 }, (_, i) => BigInt(i + 1) * 0x40n);
    for (const key of longLived) inRequest(() => recordObservedCall(registry, acquire(key)));
    for (let i = 0; i < 5000; i++) inRequest(() => recordObservedCall(registry, acquire(0x1_0000_0000n + BigInt(i) * 0x40n)));
    registry.settled();
    const before = exporter.origins.longLivedCount;
    assert.ok(before >= 5000, `the long-lived handles' origins are kept apart (${before})`);
    for (const key of longLived) recordObservedCall(registry, free(key));
    for (let i = 0; i < 20000; i++) inRequest(() => recordObservedCall(registry, acquire(0x2_0000_0000n + BigInt(i) * 0x40n)));
    registry.settled();
    const after = exporter.origins.longLivedCount;
    // The 20,000 new handles are live: each one that left the ring of recent openings is kept too.
    assert.equal(after, before + 20000 - 5000, 'the 5,000 released long-lived handles were let go');
    const live = registry.settled().get('credential', kept);
    exporter.onLeak(live, 'exit');
    assertLinksToFirstCall(spans, 'sspi.leak', 'the first handle, still live, links to the call that made it');
  });

  it('links a double release of a long-lived handle, after thousands of handles made since', function () {
    const { spans, registry, inRequest } = traced();
    inRequest(() => recordObservedCall(registry, acquire(0x10n)));
    for (let i = 0; i < 10000; i++) inRequest(() => recordObservedCall(registry, acquire(0x1_0000_0000n + BigInt(i) * 0x40n)));
    recordObservedCall(registry, free(0x10n));
    for (let i = 0; i < 10000; i++) inRequest(() => recordObservedCall(registry, acquire(0x2_0000_0000n + BigInt(i) * 0x40n)));
    registry.settled();
    releaseAgain(registry, 0x10n);
    registry.settled();
    assertLinksToFirstCall(spans, 'sspi.misuse');
  });
});
