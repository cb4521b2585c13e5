// The registry applies observed calls in batches (HandleRegistry.log): whatever reads it, and the
// guard above all, must see every call that returned before the read, in call order.
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { HandleRegistry, PENDING_LIMIT } from '../../dist/core/registry.js';
import { gatedListener } from '../../dist/core/registry-events.js';
import { guardCall, recordBlockedCall, recordObservedCall } from '../../dist/core/lifecycle.js';
import { sspiFunction } from '../../dist/sspi/functions.js';
import { agentErrorCounts, setMessageSink } from '../../dist/diagnostics.js';
import { performance } from 'node:perf_hooks';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { PrometheusExporter } from '../../dist/exporters/prometheus.js';
import { OtelTraceExporter } from '../../dist/exporters/otel-traces.js';
import { NodeExposeSspiHook } from '../../dist/hooks/node-expose-sspi-hook.js';
import { stackPolicy } from '../../dist/core/stacks.js';
import { handleKey } from '../../dist/core/handle-keys.js';
import { ReleaseFilter } from '../../dist/core/log/release-filter.js';
import { StackContextManager } from '../helpers/stack-context-manager.mjs';
import { acquire, firstInit, free, provider } from '../helpers/observed-calls.mjs';

const fn = (name) => sspiFunction(name);

/** A registry whose listener records what it hears, in order. */
function watched() {
  const registry = new HandleRegistry();
  const events = [];
  registry.subscribe({
    onCall: (name) => events.push(`call ${name}`),
    onOpen: (h) => events.push(`open ${h.kind}`),
    onClose: (h) => events.push(`close ${h.kind}`),
    onInvalidRelease: (e) => events.push(`invalid ${e.kind} ${e.reason}`),
  });
  return { registry, events };
}

describe('calls applied in batches', function () {
  it('waits for the next turn of the event loop, then applies the calls in order', async function () {
    const { registry, events } = watched();
    recordObservedCall(registry, acquire(0x10n));
    recordObservedCall(registry, firstInit(0x10n, 0x20n));
    assert.deepEqual(events, [], 'nothing applied while the app’s code runs on');
    await turn();
    assert.deepEqual(events, ['call AcquireCredentialsHandleW', 'open credential', 'call InitializeSecurityContextW', 'open context']);
    assert.equal(registry.settled().liveHandles().find((h) => h.kind === 'context').credential.key, 0x10n, 'the context knows its credential');
  });

  it('applies what waits before anything reads the registry', function () {
    const { registry } = watched();
    recordObservedCall(registry, acquire(0x10n));
    assert.equal(registry.settled().liveCount('credential'), 1);
    recordObservedCall(registry, free(0x10n));
    assert.equal(registry.settled().liveHandles().length, 0);
    recordObservedCall(registry, acquire(0x30n));
    assert.deepEqual(registry.settled().liveGroups().map((g) => `${g.kind} ${g.count}`), ['credential 1']);
  });

  it('applies them on the spot once PENDING_LIMIT wait, so a loop that never yields does not pile them up', function () {
    const { registry, events } = watched();
    for (let i = 1; i < PENDING_LIMIT; i++) recordObservedCall(registry, acquire(BigInt(i)));
    assert.equal(events.length, 0);
    recordObservedCall(registry, acquire(BigInt(PENDING_LIMIT)));
    assert.equal(events.filter((e) => e === 'open credential').length, PENDING_LIMIT);
  });

  it('applies at once a call made while a full batch is applied (no row left for it), and loses none', function () {
    const { registry } = watched();
    let made = false;
    registry.subscribe({
      onOpen: () => {
        // A listener's own SSPI call while the rows are applied: the log is full, so it cannot wait.
        if (made) return;
        made = true;
        recordObservedCall(registry, acquire(0xabcdefn));
      },
    });
    const before = agentErrorCounts().get('registry.settle') ?? 0;
    for (let i = 1; i <= PENDING_LIMIT; i++) recordObservedCall(registry, acquire(BigInt(i)));
    assert.equal(registry.settled().liveCount('credential'), PENDING_LIMIT + 1);
    assert.equal(agentErrorCounts().get('registry.settle') ?? 0, before);
  });

  it('the guard sees a release that still waits: a second free is stopped', function () {
    const { registry, events } = watched();
    recordObservedCall(registry, acquire(0x10n));
    recordObservedCall(registry, free(0x10n));
    const verdict = guardCall(registry, fn('FreeCredentialsHandle'), { credential: 0x10n });
    assert.equal(verdict?.reason, 'double');
    assert.equal(verdict.released.releasedBy, 'FreeCredentialsHandle');
    assert.deepEqual(events.slice(-2), ['call FreeCredentialsHandle', 'close credential'], 'applied before the verdict');
  });

  it('the guard sees a value the provider handed out again while that still waits: its use is let through', function () {
    const { registry, events } = watched();
    recordObservedCall(registry, acquire(0x10n));
    recordObservedCall(registry, free(0x10n));
    registry.settled();
    // The allocator hands the freed value out again: released in the registry, live in what waits.
    recordObservedCall(registry, acquire(0x10n));
    const heard = events.length;
    assert.equal(guardCall(registry, fn('InitializeSecurityContextW'), { credential: 0x10n, context: null }), undefined);
    assert.equal(guardCall(registry, fn('FreeCredentialsHandle'), { credential: 0x10n }), undefined);
    // Providers re-issue freed values at once, on every handshake: answered without applying what waits.
    assert.equal(events.length, heard, 'the guard answered from what waits');
    recordObservedCall(registry, free(0x10n));
    assert.equal(guardCall(registry, fn('FreeCredentialsHandle'), { credential: 0x10n })?.reason, 'double', 'and released again');
  });

  it('the guard sees a buffer address SSPI allocated again while that still waits', function () {
    const { registry, events } = watched();
    const query = (key) => ({ fn: fn('QuerySecurityPackageInfoW'), provider, status: 0, durationSeconds: 0, packageName: 'NTLM', outBuffers: [{ key, holder: undefined }] });
    const freeBuffer = (key) => ({ fn: fn('FreeContextBuffer'), provider, status: 0, durationSeconds: 0, buffer: key });
    recordObservedCall(registry, query(0x500n));
    recordObservedCall(registry, freeBuffer(0x500n));
    registry.settled();
    recordObservedCall(registry, query(0x500n));
    const heard = events.length;
    assert.equal(guardCall(registry, fn('FreeContextBuffer'), { buffer: 0x500n }), undefined);
    assert.equal(events.length, heard, 'answered from what waits');
    recordObservedCall(registry, freeBuffer(0x500n));
    assert.equal(guardCall(registry, fn('FreeContextBuffer'), { buffer: 0x500n })?.reason, 'double');
    assert.equal(registry.settled().liveCount('buffer'), 0);
  });

  it('the guard answers for rows not yet applied with packed Number keys: a double free and a re-issued value in one batch', function () {
    const { registry, events } = watched();
    // WinPR's handles: dwLower an address, dwUpper its package name's; keys pack into Numbers.
    const keys = Array.from({ length: 100 }, (_, i) => handleKey(0x55d4c3a0e2b0 + i * 48, 0x7f3a1c004d20));
    assert.ok(keys.every((k) => typeof k === 'number'), 'the pairs pack');
    for (const key of keys) recordObservedCall(registry, acquire(key));
    // One release among a hundred waiting rows, then the same value handed out and released again.
    recordObservedCall(registry, free(keys[37]));
    assert.equal(events.length, 0, 'nothing applied yet');
    assert.equal(guardCall(registry, fn('FreeCredentialsHandle'), { credential: keys[36] }), undefined, 'a value no waiting row releases');
    assert.equal(events.length, 0, 'answered without applying what waits');
    assert.equal(guardCall(registry, fn('FreeCredentialsHandle'), { credential: keys[37] })?.reason, 'double', 'the waiting release is seen');
    recordObservedCall(registry, acquire(keys[37]));
    const heard = events.length;
    assert.equal(guardCall(registry, fn('FreeCredentialsHandle'), { credential: keys[37] }), undefined, 're-issued in a waiting row: live');
    assert.equal(events.length, heard, 'answered from the waiting rows');
    recordObservedCall(registry, free(keys[37]));
    assert.equal(guardCall(registry, fn('FreeCredentialsHandle'), { credential: keys[37] })?.reason, 'double', 'released again in a waiting row');
    assert.equal(registry.settled().liveCount('credential'), 99);
  });

  it('the guard scans the waiting rows when another value shares its filter bit', function () {
    const { registry, events } = watched();
    const base = handleKey(0x10000, 0x7f3a1c004d20);
    let other;
    for (let i = 1; other === undefined && i < 100_000; i++) {
      const candidate = handleKey(0x10000 + i * 16, 0x7f3a1c004d20);
      const filter = new ReleaseFilter();
      filter.add('credential', candidate, true);
      if (filter.mayHold('credential', base)) other = candidate;
    }
    assert.ok(other !== undefined, 'a value sharing the bit');
    recordObservedCall(registry, acquire(base));
    recordObservedCall(registry, free(base));
    registry.settled();
    // A waiting free of the other value sets base's bit: the rows say it is not base's.
    recordObservedCall(registry, acquire(other));
    recordObservedCall(registry, free(other));
    assert.equal(registry.log.effectOn('credential', base), undefined, 'no waiting row touches base');
    assert.equal(registry.log.effectOn('credential', other), true, 'one releases the other value');
    assert.equal(guardCall(registry, fn('FreeCredentialsHandle'), { credential: base })?.reason, 'double', 'base stays released');
    assert.ok(events.includes('close credential'));
  });

  it('the latest waiting effect on a kind answers for its own value only; a row of an unreadable value hides it', function () {
    const filter = new ReleaseFilter();
    filter.add('credential', 0x1000, false);
    filter.add('credential', 0x2000, true);
    filter.add('context', 0x3000, false);
    assert.equal(filter.latestEffect('credential', 0x2000), true, 'released by the latest credential row');
    assert.equal(filter.latestEffect('credential', 0x1000), undefined, 'an earlier row: the log must scan');
    assert.equal(filter.latestEffect('context', 0x2000), undefined, 'another kind');
    assert.equal(filter.latestEffect('context', 0x3000), false, 'handed out');
    filter.add('context', undefined, false);
    assert.equal(filter.latestEffect('context', 0x3000), undefined, 'the latest context row read no value');
    filter.clear();
    assert.equal(filter.latestEffect('credential', 0x2000), undefined, 'nothing waits after a clear');
    const { registry } = watched();
    const [a, b] = [handleKey(0x55d4c3a0e2b0, 0x7f3a1c004d20), handleKey(0x55d4c3a0e2e0, 0x7f3a1c004d20)];
    recordObservedCall(registry, acquire(a));
    recordObservedCall(registry, free(a));
    recordObservedCall(registry, acquire(b));
    assert.equal(registry.log.effectOn('credential', b), false, 'the latest row hands b out');
    assert.equal(registry.log.effectOn('credential', a), true, 'a scan finds the release of a');
    assert.equal(guardCall(registry, fn('FreeCredentialsHandle'), { credential: a })?.reason, 'double');
  });

  it('an .async release heard after the provider handed its value out again leaves the new holder live', function () {
    const { registry, events } = watched();
    recordObservedCall(registry, acquire(0x10n));
    const issuedAt = performance.now();
    // The free runs on koffi's worker thread; the app's sync acquire gets the freed value back before the free's callback.
    recordObservedCall(registry, { ...acquire(0x10n), at: issuedAt + 1 });
    recordObservedCall(registry, { ...free(0x10n), issuedAt, at: issuedAt + 2 });
    assert.equal(registry.settled().liveCount('credential'), 1, 'the second holder is live');
    assert.equal(guardCall(registry, fn('FreeCredentialsHandle'), { credential: 0x10n }), undefined, 'and the app may free it');
    assert.deepEqual(events, [
      'call AcquireCredentialsHandleW',
      'open credential',
      'call AcquireCredentialsHandleW',
      'close credential',
      'open credential',
      'call FreeCredentialsHandle',
    ]);
    // An .async free issued after the handle was made is the release it looks like.
    recordObservedCall(registry, { ...free(0x10n), issuedAt: issuedAt + 3, at: issuedAt + 4 });
    assert.equal(registry.settled().liveCount('credential'), 0);
  });

  it('a call whose caller a listener captures waits like any other, and its events carry the facts when applied', async function () {
    const { registry, events } = watched();
    let wants = false;
    const callerContext = { request: 1 };
    const heard = [];
    registry.subscribe({
      captures: { context: () => (wants ? callerContext : undefined), details: new Set(['AcquireCredentialsHandleW']) },
      onCall: (name, _status, _seconds, details, caller) => heard.push({ name, details, caller }),
      onOpen: (_h, _holder, caller) => heard.push({ open: caller }),
    });
    recordObservedCall(registry, firstInit(undefined, 0x20n));
    assert.equal(events.length, 0, 'not captured: it waits');
    wants = true;
    recordObservedCall(registry, { ...acquire(0x10n), at: 1234 });
    assert.equal(events.length, 0, 'captured: it waits too, in call order');
    recordObservedCall(registry, free(0x10n));
    wants = false;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(events, ['call InitializeSecurityContextW', 'open context', 'call AcquireCredentialsHandleW', 'open credential', 'call FreeCredentialsHandle', 'close credential'], 'applied at the next turn');
    const [waited, , captured, opened] = heard;
    assert.equal(waited.caller, undefined);
    assert.equal(waited.details, undefined, 'no details for a call not captured');
    assert.deepEqual(captured.caller, { context: callerContext, at: 1234 });
    assert.equal(captured.details.package, 'NTLM');
    assert.equal(opened.open, captured.caller, 'the handle it made gets the same facts');
    assert.deepEqual(heard[4].caller, { context: callerContext, at: heard[4].caller.at }, 'the free, captured too');
  });

  it('tells the call metrics once per batch per function and status, after the batch’s own events', function () {
    const { registry, events } = watched();
    const tallies = [];
    const handles = [];
    registry.subscribe({
      onCalls: (fn, status, count, durations) => tallies.push({ fn, status, count, durations: [...durations], after: events.length }),
      onOpens: (kind, pkg, count) => handles.push({ event: 'opens', kind, pkg, count, n: 0 }),
      onCloses: (kind, pkg, count, lifetimes) => handles.push({ event: 'closes', kind, pkg, count, n: lifetimes.length }),
    });
    for (let i = 1; i <= 5; i++) {
      recordObservedCall(registry, { ...acquire(BigInt(i)), durationSeconds: i / 1000 });
      recordObservedCall(registry, free(BigInt(i)));
    }
    recordObservedCall(registry, { ...free(0x99n), status: 0x80090301 | 0 });
    assert.equal(tallies.length, 0, 'nothing told while the calls wait');
    registry.settled();
    assert.deepEqual(
      tallies.map(({ fn, status, count }) => `${fn} ${status} ${count}`),
      ['AcquireCredentialsHandleW 0 5', 'FreeCredentialsHandle 0 5', `FreeCredentialsHandle ${0x80090301 | 0} 1`],
    );
    assert.deepEqual(tallies[0].durations, [0.001, 0.002, 0.003, 0.004, 0.005], 'each call’s duration, in call order');
    assert.deepEqual(handles.map(({ event, kind, pkg, count, n }) => `${event} ${kind} ${pkg} ${count} ${n}`), ['opens credential NTLM 5 0', 'closes credential NTLM 5 5'], 'handles made and released, once per batch');
    assert.ok(tallies.every((t) => t.after === events.length), 'after every other event of the batch');
    // A call the guard stops is told at once: no batch is applied for it.
    tallies.length = 0;
    const stopped = guardCall(registry, fn('FreeCredentialsHandle'), { credential: 1n });
    recordBlockedCall(registry, fn('FreeCredentialsHandle'), stopped, undefined);
    assert.deepEqual(tallies.map(({ fn, status, count }) => `${fn} ${status} ${count}`), [`FreeCredentialsHandle ${0x80090301 | 0} 1`]);
  });

  it('counts the calls of every batch in the Prometheus series, however they were batched', async function () {
    const registry = new HandleRegistry();
    const prometheus = new PrometheusExporter(registry);
    for (let i = 1; i <= PENDING_LIMIT + 10; i++) recordObservedCall(registry, acquire(BigInt(i)));
    recordObservedCall(registry, free(1n));
    await turn();
    recordObservedCall(registry, free(2n));
    const text = await prometheus.metrics();
    assert.match(text, new RegExp(`sspi_calls_total\\{function="AcquireCredentialsHandleW",status="SEC_E_OK"\\} ${PENDING_LIMIT + 10}\\b`));
    assert.match(text, /sspi_calls_total\{function="FreeCredentialsHandle",status="SEC_E_OK"\} 2\b/);
    assert.match(text, new RegExp(`sspi_call_duration_seconds_count\\{function="AcquireCredentialsHandleW"\\} ${PENDING_LIMIT + 10}\\b`));
    prometheus.stop();
  });

  it('counts a change that throws as an agent error and applies the next', function () {
    const messages = [];
    setMessageSink((m) => messages.push(m));
    const before = agentErrorCounts().get('registry.settle') ?? 0;
    try {
      const { registry } = watched();
      registry.log.append(acquire(0x20n), () => {
        throw new Error('boom');
      }, undefined, 1);
      recordObservedCall(registry, acquire(0x10n));
      assert.equal(registry.settled().liveCount('credential'), 1);
    } finally {
      setMessageSink((m) => process.stderr.write(m));
    }
    assert.equal(agentErrorCounts().get('registry.settle'), before + 1);
    assert.match(messages.join(''), /registry\.settle .*boom/);
  });
});

describe('calls applied in batches: what readers see', function () {
  it('a double release applied in a batch is `double`, whatever later waiting calls do to the value', function () {
    const { registry, events } = watched();
    recordObservedCall(registry, acquire(0x10n));
    recordObservedCall(registry, free(0x10n));
    registry.settled();
    // SSPI_AGENT_GUARD=0: the second free reaches the provider; then the value is handed out again.
    recordObservedCall(registry, { ...free(0x10n), status: 0x80090301 | 0 });
    recordObservedCall(registry, acquire(0x10n));
    registry.settled();
    assert.deepEqual(events.filter((e) => e.startsWith('invalid')), ['invalid credential double']);
  });

  it('applies them at the next turn even when the app has replaced the global setImmediate (fake timers)', async function () {
    const { registry, events } = watched();
    const real = globalThis.setImmediate;
    globalThis.setImmediate = () => 1; // what a fake-timer library may return, and never run
    try {
      recordObservedCall(registry, acquire(0x10n));
    } finally {
      globalThis.setImmediate = real;
    }
    await turn();
    assert.deepEqual(events, ['call AcquireCredentialsHandleW', 'open credential']);
  });

  it('a listener that unsubscribes hears what happened while it listened', function () {
    const registry = new HandleRegistry();
    const heard = [];
    const unsubscribe = registry.subscribe({ onOpen: (h) => heard.push(h.kind) });
    recordObservedCall(registry, acquire(0x10n));
    unsubscribe();
    assert.deepEqual(heard, ['credential']);
  });

  it('node-expose-sspi calls keep the time they were made, not the time they are applied', async function () {
    const registry = new HandleRegistry();
    // The addon's shape, as far as the hook recognizes it (the real one runs in the Windows lane).
    const sspi = {
      AcquireCredentialsHandle: () => ({ credential: '0x1.0x2' }),
      AcceptSecurityContext: () => ({ SECURITY_STATUS: 'SEC_E_OK', contextHandle: '0x3.0x4' }),
      FreeCredentialsHandle: () => undefined,
    };
    new NodeExposeSspiHook({ registry, stacks: stackPolicy('off', 8), guard: true }).patchModule({ sspi });
    let lifetime;
    registry.subscribe({ onClose: (_h, seconds) => (lifetime = seconds) });
    const credential = sspi.AcquireCredentialsHandle({ packageName: 'NTLM' }).credential;
    const acquiredBy = performance.now();
    while (performance.now() - acquiredBy < 30); // the app works with the credential
    sspi.FreeCredentialsHandle(credential);
    await turn();
    assert.ok(lifetime * 1000 >= 30, `lifetime ${lifetime} s: from the acquire's return to the free's`);
  });

  it('a Prometheus metric read on its own counts the calls not applied yet', async function () {
    const registry = new HandleRegistry();
    const prometheus = new PrometheusExporter(registry);
    recordObservedCall(registry, acquire(0x10n));
    recordObservedCall(registry, free(0x10n));
    const text = await prometheus.registry.getSingleMetricAsString('sspi_calls_total');
    assert.match(text, /sspi_calls_total\{function="AcquireCredentialsHandleW",status="SEC_E_OK"\} 1/);
    assert.match(text, /sspi_calls_total\{function="FreeCredentialsHandle",status="SEC_E_OK"\} 1/);
    prometheus.stop();
  });

  describe('spans of calls heard after they returned', function () {
    it('a credential closed while its contexts live (its value handed out again, a forced cleanup): the misuse is a child of the request', function () {
      context.setGlobalContextManager(new StackContextManager());
      try {
        const spans = new InMemorySpanExporter();
        const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] }).getTracer('test');
        const registry = new HandleRegistry();
        registry.subscribe(new OtelTraceExporter({ tracer: () => tracer, callSpans: 'off', leakSpans: true }));
        const request = tracer.startSpan('request');
        context.with(trace.setSpan(context.active(), request), () => {
          recordObservedCall(registry, acquire(0x10n));
          recordObservedCall(registry, firstInit(0x10n, 0x20n));
          // The free was not seen: the value comes back from the provider with the context still live.
          recordObservedCall(registry, acquire(0x10n));
          // A cleanup the app asks for in the request, of a credential whose context it cannot release.
          recordObservedCall(registry, acquire(0x30n));
          recordObservedCall(registry, firstInit(0x30n, 0x40n));
          registry.forcedRelease(registry.settled().get('credential', 0x30n), 0, 'api');
        });
        request.end();
        const misuses = spans.getFinishedSpans().filter((s) => s.name === 'sspi.misuse');
        assert.equal(misuses.length, 2);
        for (const misuse of misuses) {
          assert.equal(misuse.attributes['sspi.misuse.reason'], 'out_of_order');
          assert.equal(misuse.parentSpanContext?.spanId ?? misuse.parentSpanId, request.spanContext().spanId);
        }
      } finally {
        context.disable();
      }
    });

    it('take their parent and times from the caller’s facts, not from the context active when heard', function () {
      context.setGlobalContextManager(new StackContextManager());
      try {
        const spans = new InMemorySpanExporter();
        let tracer;
        const sdkTracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] }).getTracer('test');
        const traces = new OtelTraceExporter({ tracer: () => tracer, callSpans: 'all', leakSpans: true });
        const registry = new HandleRegistry();
        // As the OpenTelemetry side's gate has it (telemetry.ts): the exporter's capture runs only
        // while a tracer is registered (there, asked once per batch).
        const capture = { context: () => (tracer ? traces.captures.context() : undefined), details: traces.captures.details };
        registry.subscribe(gatedListener(() => true, [traces], capture));
        const request = sdkTracer.startSpan('request');
        const inRequest = trace.setSpan(context.active(), request);
        context.with(inRequest, () => {
          // Before an SDK is there: nothing captured, the calls wait.
          recordObservedCall(registry, acquire(0x10n));
          recordObservedCall(registry, free(0x10n));
          recordObservedCall(registry, { ...free(0x10n), status: 0x80090301 | 0 });
        });
        tracer = sdkTracer;
        const other = sdkTracer.startSpan('other request');
        context.with(trace.setSpan(context.active(), other), () => registry.settled());
        const at = performance.now() - 50;
        context.with(inRequest, () => recordObservedCall(registry, { ...acquire(0x30n), at, durationSeconds: 0.002 }));
        // Heard later, in another request's context: the facts say whose call it was.
        const caller = { context: inRequest, at };
        const released = registry.releasedHandle('credential', 0x10n);
        context.with(trace.setSpan(context.active(), other), () => {
          traces.onInvalidRelease({ kind: 'credential', reason: 'double', fn: 'FreeCredentialsHandle', released, caller });
          traces.onCall('FreeCredentialsHandle', 0, 0.001, undefined, caller);
        });
        request.end();
        other.end();
        const finished = spans.getFinishedSpans();
        const parentOf = (s) => s.parentSpanContext?.spanId ?? s.parentSpanId;
        const calls = finished.filter((s) => s.name === 'FreeCredentialsHandle' || s.name === 'AcquireCredentialsHandleW');
        assert.deepEqual(
          calls.map((s) => s.name),
          ['AcquireCredentialsHandleW', 'FreeCredentialsHandle'],
          'only the calls with their caller’s facts have a span',
        );
        for (const span of calls) assert.equal(parentOf(span), request.spanContext().spanId);
        const ms = ([s, ns]) => s * 1000 + ns / 1e6;
        // The SDK maps a performance.now() time to the wall clock as it does its own spans' times, by
        // Date.now()'s offset from timeOrigin + now (which drifts by milliseconds over a process's
        // life). Both offsets are read with Date.now()'s 1 ms resolution: 2 ms of slack.
        const offset = Date.now() - (performance.timeOrigin + performance.now());
        const wall = performance.timeOrigin + at + offset;
        assert.ok(Math.abs(ms(calls[0].endTime) - wall) < 2, 'ends when the call returned, 50 ms before it was heard');
        assert.ok(Math.abs(ms(calls[0].endTime) - ms(calls[0].startTime) - 2) < 0.01, 'starts its duration before');
        const misuses = finished.filter((s) => s.name === 'sspi.misuse');
        assert.deepEqual(misuses.map(parentOf), [undefined, request.spanContext().spanId], 'not captured: no parent; captured: the request');
      } finally {
        context.disable();
      }
    });
  });
});
