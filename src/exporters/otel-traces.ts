/**
 * OpenTelemetry spans from the registry's events: one span per SSPI call that does real work on a
 * handle (a child of the app's active span), and one span per finding — a leaked handle (`sspi.leak`)
 * or a broken handle rule (`sspi.misuse`) — linked to the span that was active where the handle was
 * made, so a trace UI leads from the leak to the request that caused it.
 *
 * The caller's side of every span (its parent, its times) comes from the call's `CallerFacts`, taken
 * as the call returned (see `captures`): never from the context active when the event is heard, which
 * for a call applied later is not the caller's. A call heard without them (made before an SDK was
 * there) gets no call span, and its findings no parent.
 *
 * With no SDK registered, `tracer()` is undefined and nothing is built. Attributes carry labels only:
 * never a handle value, a user, principal or target name, a password, an identity or token bytes.
 */
import * as clock from '../core/clock.js';
import type { Attributes, Context, Link, SpanContext, Tracer } from '@opentelemetry/api';
import { otelApi } from '../otel/api.js';
import { negotiatedLabel } from '../core/negotiation.js';
import { statusName } from '../sspi/status-names.js';
import { HANDLE_KINDS, type CallDetails, type CallerCapture, type CallerFacts, type InvalidRelease, type LeakReason, type TrackedHandle } from '../types.js';
import type { RegistryListener } from '../core/registry-events.js';
import { RELEASED_MEMORY } from '../core/released-ring.js';
import { SpanOrigins } from './span-origins.js';
import {
  ATTR_CODE_STACKTRACE,
  ATTR_ERROR_TYPE,
  ATTR_SSPI_CALL_STACKTRACE,
  ATTR_SSPI_CREDENTIAL_USE,
  ATTR_SSPI_FUNCTION,
  ATTR_SSPI_HANDLE_AGE,
  ATTR_SSPI_HANDLE_CREATED_BY,
  ATTR_SSPI_HANDLE_DIRECTION,
  ATTR_SSPI_HANDLE_HISTORY,
  ATTR_SSPI_HANDLE_ID,
  ATTR_SSPI_HANDLE_KIND,
  ATTR_SSPI_HANDLE_RELEASED_BY,
  ATTR_SSPI_LEAK_REASON,
  ATTR_SSPI_LIBRARY,
  ATTR_SSPI_LIVE_CONTEXTS,
  ATTR_SSPI_MISUSE_REASON,
  ATTR_SSPI_NEGOTIATED_PACKAGE,
  ATTR_SSPI_PACKAGE,
  ATTR_SSPI_STATUS,
  ATTR_SSPI_STATUS_CODE,
  CALL_SPAN_FUNCTIONS,
  type CallSpans,
  SPAN_LEAK,
  SPAN_MISUSE,
} from '../otel/semconv.js';

export interface OtelTraceOptions {
  /** The SDK's tracer now; undefined when none is registered. */
  readonly tracer: () => Tracer | undefined;
  /** Spans for SSPI calls (SSPI_AGENT_CALL_SPANS). */
  readonly callSpans: CallSpans;
  /** Spans for leaks and misuses (SSPI_AGENT_LEAK_SPANS). */
  readonly leakSpans: boolean;
}

/** Handles made last whose origins are kept without a Map (see SpanOrigins). */
const RECENT_ORIGINS = 1024;

/** An out-of-order release links to the credential and at most this many of its live contexts. */
const MAX_LINKS = 32;

function callAttributes(fn: string, status: number, details: CallDetails | undefined): Attributes {
  const name = statusName(status);
  const attributes: Attributes = { [ATTR_SSPI_FUNCTION]: fn, [ATTR_SSPI_STATUS]: name, [ATTR_SSPI_STATUS_CODE]: status >>> 0 };
  if (status < 0) attributes[ATTR_ERROR_TYPE] = name;
  if (details) {
    if (details.kind) attributes[ATTR_SSPI_HANDLE_KIND] = details.kind;
    if (details.package) attributes[ATTR_SSPI_PACKAGE] = details.package;
    if (details.direction) attributes[ATTR_SSPI_HANDLE_DIRECTION] = details.direction;
    if (details.credentialUse !== undefined && details.direction) attributes[ATTR_SSPI_CREDENTIAL_USE] = details.direction;
    if (details.negotiated) attributes[ATTR_SSPI_NEGOTIATED_PACKAGE] = details.negotiated;
  }
  return attributes;
}

/** A finding's parent: the context its call was made in, or none when the call was not captured. */
function callerContext(caller: CallerFacts | undefined): Context {
  return caller ? (caller.context as Context) : otelApi().ROOT_CONTEXT;
}

const OTEL_FRAME = /[\\/]node_modules[\\/]@opentelemetry[\\/]/;

/**
 * A stack as one attribute: the app's frames, without the OpenTelemetry SDK's own (its context
 * manager's frames sit between the app's whenever the app runs code in an active span).
 */
function stackText(frames: readonly string[] | undefined): string | undefined {
  const app = frames?.filter((f) => !OTEL_FRAME.test(f));
  return app && app.length > 0 ? app.join('\n') : undefined;
}

/** What a finding says about its handle: labels, the agent's id, age, history and allocation stack. */
function handleAttributes(handle: TrackedHandle): Attributes {
  const attributes: Attributes = {
    [ATTR_SSPI_HANDLE_KIND]: handle.kind,
    [ATTR_SSPI_PACKAGE]: handle.package,
    [ATTR_SSPI_HANDLE_DIRECTION]: handle.direction,
    [ATTR_SSPI_HANDLE_ID]: handle.id,
    [ATTR_SSPI_HANDLE_CREATED_BY]: handle.createdBy,
    [ATTR_SSPI_LIBRARY]: handle.library,
    [ATTR_SSPI_HANDLE_AGE]: (clock.now() - handle.createdAt) / 1000,
  };
  const negotiated = negotiatedLabel(handle);
  if (negotiated) attributes[ATTR_SSPI_NEGOTIATED_PACKAGE] = negotiated;
  if (handle.history) {
    attributes[ATTR_SSPI_HANDLE_HISTORY] = handle.history.map((c) => `${c.fn} ${statusName(c.status)} +${Math.round(c.atMs)}ms`);
  }
  const stack = stackText(handle.site?.frames());
  if (stack) attributes[ATTR_CODE_STACKTRACE] = stack;
  return attributes;
}

export class OtelTraceExporter implements RegistryListener {
  /**
   * Call spans and the links of findings need the caller's active context (none is taken while both
   * are off or no tracer is registered: `tracing()`), and call spans the details of the functions they
   * are made for.
   */
  readonly captures: CallerCapture;
  /** Where each handle was made: the creating call's span, or the span active then. */
  private readonly origins = new SpanOrigins(RECENT_ORIGINS, RELEASED_MEMORY * HANDLE_KINDS.length);
  /**
   * The last call span made, and the caller facts it was made for: the handles a call makes are
   * opened right after its span (its `onOpen`s get the same facts object), so one slot serves where
   * a WeakMap write per span cost as much as a tenth of the span.
   */
  private lastCaller: CallerFacts | undefined = undefined;
  private lastCallSpan: SpanContext | undefined = undefined;
  /** The functions whose calls are spans. */
  private readonly spanned: ReadonlySet<string>;
  /** Call or leak spans are on: they need the callers' contexts. */
  private readonly wantsCallers: boolean;

  constructor(private readonly options: OtelTraceOptions) {
    this.spanned = CALL_SPAN_FUNCTIONS[options.callSpans];
    this.wantsCallers = this.spanned.size > 0 || options.leakSpans;
    // Read only while `tracing()` (telemetry.ts asks it once per batch): the API is loaded then.
    this.captures = {
      context: this.wantsCallers ? () => otelApi().context.active() : () => undefined,
      details: this.spanned,
    };
  }

  /** Whether calls should carry their caller now: spans are on and a tracer is registered. */
  tracing(): boolean {
    return this.wantsCallers && this.options.tracer() !== undefined;
  }

  onCall(fn: string, status: number, durationSeconds: number, details?: CallDetails, caller?: CallerFacts): void {
    if (!caller || !this.spanned.has(fn)) return;
    const tracer = this.options.tracer();
    if (!tracer) return;
    const { SpanKind, SpanStatusCode } = otelApi();
    // Span times stay on performance.now()'s clock: the SDK maps such times to the wall clock by
    // the same Date.now() offset it gives the app's own spans. timeOrigin + at drifts from Date.now()
    // over a process's life, and would put a call outside its request span.
    const end = caller.at;
    const span = tracer.startSpan(
      fn,
      { kind: SpanKind.INTERNAL, startTime: end - durationSeconds * 1000, attributes: callAttributes(fn, status, details) },
      caller.context as Context,
    );
    if (status < 0) span.setStatus({ code: SpanStatusCode.ERROR, message: statusName(status) });
    span.end(end);
    this.lastCaller = caller;
    this.lastCallSpan = span.spanContext();
  }

  onOpen(handle: TrackedHandle, _holder?: object, caller?: CallerFacts): void {
    if (!caller) return;
    const callSpan = caller === this.lastCaller ? this.lastCallSpan : undefined;
    if (callSpan) {
      this.origins.set(handle, callSpan);
      return;
    }
    const { isSpanContextValid, trace } = otelApi();
    const active = trace.getSpanContext(caller.context as Context);
    if (active && isSpanContextValid(active)) this.origins.set(handle, active);
  }

  onClose(handle: TrackedHandle): void {
    this.origins.closed(handle);
  }

  onLeak(handle: TrackedHandle, reason: LeakReason): void {
    const tracer = this.leakTracer();
    if (!tracer) return;
    const attributes = handleAttributes(handle);
    attributes[ATTR_SSPI_LEAK_REASON] = reason;
    // Found by a timer, the GC or the process end: a trace of its own, linked to where the handle was made.
    this.finding(tracer, SPAN_LEAK, otelApi().ROOT_CONTEXT, attributes, this.linksTo([handle]), `SSPI ${handle.kind} leaked (${reason})`);
  }

  onInvalidRelease(event: InvalidRelease): void {
    if ((event.reason !== 'double' && event.reason !== 'use_after_release') || !event.released) return;
    const tracer = this.leakTracer();
    if (!tracer) return;
    const released = event.released as TrackedHandle;
    const attributes = handleAttributes(released);
    attributes[ATTR_SSPI_MISUSE_REASON] = event.reason;
    attributes[ATTR_SSPI_FUNCTION] = event.fn;
    if (released.releasedBy) attributes[ATTR_SSPI_HANDLE_RELEASED_BY] = released.releasedBy;
    const stack = stackText(event.site?.frames());
    if (stack) attributes[ATTR_SSPI_CALL_STACKTRACE] = stack;
    // Found in the app's own call: a child of the request that made it.
    const message = event.reason === 'double' ? `SSPI ${event.kind} released twice` : `SSPI ${event.kind} used after release`;
    this.finding(tracer, SPAN_MISUSE, callerContext(event.caller), attributes, this.linksTo([released]), message);
  }

  onOutOfOrderRelease(credential: TrackedHandle, liveContexts: readonly TrackedHandle[], caller?: CallerFacts): void {
    const tracer = this.leakTracer();
    if (!tracer) return;
    const attributes = handleAttributes(credential);
    attributes[ATTR_SSPI_MISUSE_REASON] = 'out_of_order';
    attributes[ATTR_SSPI_FUNCTION] = 'FreeCredentialsHandle';
    attributes[ATTR_SSPI_LIVE_CONTEXTS] = liveContexts.length;
    const links = this.linksTo([credential, ...liveContexts.slice(0, MAX_LINKS - 1)]);
    this.finding(tracer, SPAN_MISUSE, callerContext(caller), attributes, links, `SSPI credential freed with ${liveContexts.length} live contexts`);
  }

  private leakTracer(): Tracer | undefined {
    return this.options.leakSpans ? this.options.tracer() : undefined;
  }

  private linksTo(handles: readonly TrackedHandle[]): Link[] {
    const links: Link[] = [];
    for (const h of handles) {
      const origin = this.origins.get(h);
      if (origin) links.push({ context: origin, attributes: { [ATTR_SSPI_HANDLE_ID]: h.id, [ATTR_SSPI_HANDLE_KIND]: h.kind } });
    }
    return links;
  }

  private finding(tracer: Tracer, name: string, parent: Context, attributes: Attributes, links: Link[], message: string): void {
    const { ROOT_CONTEXT, SpanKind, SpanStatusCode } = otelApi();
    const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes, links, root: parent === ROOT_CONTEXT }, parent);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    span.end();
  }
}
