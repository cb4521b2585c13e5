/**
 * The agent's OpenTelemetry side, wired once per agent: the trace and metric exporters, where their
 * tracer and meter come from, the optional sdk-node bootstrap, and the flush the process end asks
 * for. By default the exporters use the SDK registered globally (the app's own, or the bootstrap's);
 * an `SspiInstrumentation` in the app's NodeSDK takes them over with the providers that SDK gives it,
 * so nothing is exported twice.
 *
 * One registry listener serves both exporters, behind a gate: while nothing at all is registered with
 * the OpenTelemetry API (the app has no SDK), an event costs one property read and reaches neither.
 */
import type { Meter, Tracer } from '@opentelemetry/api';
import { agentError } from './diagnostics.js';
import { OtelMetricsExporter } from './exporters/otel-metrics.js';
import { OtelTraceExporter } from './exporters/otel-traces.js';
import type { Flusher } from './process-end.js';
import type { HandleRegistry } from './core/registry.js';
import type { CallerCapture } from './types.js';
import { gatedListener, type RegistryListener } from './core/registry-events.js';
import { SdkBootstrap, type OtelMode } from './otel/bootstrap.js';
import type { CallSpans } from './otel/semconv.js';
import { MeterSource, TracerSource } from './otel/providers.js';
import { nothingRegistered } from './otel/registered.js';

export interface TelemetryOptions {
  readonly mode: OtelMode;
  readonly callSpans: CallSpans;
  readonly leakSpans: boolean;
}

/** Where the signals go and which spans to make: the globals, or what an instrumentation was given. */
export interface TelemetrySources {
  readonly tracers: TracerSource;
  readonly meters: MeterSource;
  readonly callSpans: CallSpans;
  readonly leakSpans: boolean;
}

/**
 * What the OpenTelemetry side declares of each call's caller, while `open()`: the caller's active
 * context, when spans want it and a tracer is registered. The exporters are asked once per batch, at
 * its first call, not per call: whether a tracer is registered (which also lets the agent's own SDK
 * start), and the meter's instruments, made if the meter is new. Those must exist before an app's
 * collection in the same turn (a shutdown right after its last calls): their callbacks are what
 * applies the calls waiting in the registry's log. A provider registered in the middle of a turn's
 * calls is found at the next turn's first call.
 */
interface GatedCapture {
  readonly capture: CallerCapture;
  /** A batch was applied: the next call asks again. */
  readonly batchApplied: RegistryListener;
}

function gatedCapture(open: () => boolean, traces: OtelTraceExporter, metrics: OtelMetricsExporter): GatedCapture {
  const traceContext = traces.captures.context;
  let asked = false;
  let tracing = false;
  const ask = () => {
    asked = true;
    try {
      metrics.prepare();
    } catch (err) {
      agentError('otel.metrics', err);
    }
    tracing = traces.tracing();
  };
  return {
    capture: {
      context: () => {
        if (!open()) return undefined;
        if (!asked) ask();
        return tracing ? traceContext() : undefined;
      },
      details: traces.captures.details,
    },
    batchApplied: {
      onCalls: () => {
        asked = false;
      },
    },
  };
}

export class Telemetry implements Flusher {
  private readonly bootstrap: SdkBootstrap | undefined;
  private sources: TelemetrySources | undefined;
  private metrics: OtelMetricsExporter | undefined;
  private unsubscribe: (() => void) | undefined;
  private subscribed: RegistryListener | undefined;
  /** Sources to go back to when an instrumentation detaches: the globals, unless OpenTelemetry is off. */
  private readonly defaults: TelemetrySources | undefined;

  constructor(
    private readonly registry: HandleRegistry,
    options: TelemetryOptions,
  ) {
    if (options.mode === 'off') return;
    this.bootstrap = SdkBootstrap.prepare(options.mode);
    this.defaults = { tracers: new TracerSource(), meters: new MeterSource(), callSpans: options.callSpans, leakSpans: options.leakSpans };
    this.use(this.defaults);
  }

  /** The registry listener serving the current sources (telemetry-gate.ts hands it the event that woke it). */
  get listener(): RegistryListener | undefined {
    return this.subscribed;
  }

  /**
   * Routes the signals to `sources` (an instrumentation's providers) until the returned function is
   * called; then back to the globals (or to nothing when SSPI_AGENT_OTEL=off).
   */
  attach(sources: TelemetrySources): () => void {
    this.use(sources);
    let attached = true;
    return () => {
      if (!attached || this.sources !== sources) return;
      attached = false;
      this.use(this.defaults);
    };
  }

  /**
   * Whether the agent's spans or metrics would be lost if the process ended now: an SDK (its own, or
   * the app's) holds them. Never starts the bootstrap's SDK: one that did not start by now has nothing.
   */
  wantsFlush(): boolean {
    const sources = this.sources;
    if (!sources) return false;
    if (this.bootstrap?.started) return true;
    if (this.bootstrap && !this.bootstrap.decided) return false;
    return sources.tracers.current() !== undefined || sources.meters.current() !== undefined;
  }

  /**
   * Exports what is pending: the bootstrap's SDK is shut down (the process is ending); an app's SDK
   * is only flushed (its shutdown is the app's).
   */
  async flush(): Promise<void> {
    if (this.bootstrap?.started) return this.bootstrap.shutdown();
    const sources = this.sources;
    if (!sources) return;
    await Promise.all([sources.tracers.sdkProvider()?.forceFlush?.(), sources.meters.sdkProvider()?.forceFlush?.()]);
  }

  async stop(): Promise<void> {
    this.use(undefined);
    try {
      await this.bootstrap?.shutdown();
    } catch (err) {
      agentError('otel.shutdown', err);
    }
  }

  private use(sources: TelemetrySources | undefined): void {
    this.unsubscribe?.();
    this.metrics?.stop();
    this.unsubscribe = this.metrics = this.subscribed = undefined;
    this.sources = sources;
    if (!sources) return;
    const traces = new OtelTraceExporter({ tracer: () => this.tracer(), callSpans: sources.callSpans, leakSpans: sources.leakSpans });
    this.metrics = new OtelMetricsExporter(this.registry, () => this.meter());
    // Globals with nothing registered: no SDK (unless the bootstrap is yet to decide).
    const bootstrap = this.bootstrap;
    const open = sources.tracers.global
      ? () => !nothingRegistered() || (bootstrap !== undefined && !bootstrap.decided)
      : () => true;
    const { capture, batchApplied } = gatedCapture(open, traces, this.metrics);
    this.subscribed = gatedListener(open, [traces, this.metrics.events, batchApplied], capture);
    this.unsubscribe = this.registry.subscribe(this.subscribed);
  }

  private tracer(): Tracer | undefined {
    this.bootstrap?.ensure();
    return this.sources?.tracers.current();
  }

  private meter(): Meter | undefined {
    this.bootstrap?.ensure();
    return this.sources?.meters.current();
  }
}
