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
 * context, when spans want it. A call asks no exporter anything: the tracer and the meter are looked
 * up when the calls are applied, where an absent tracer drops the spans.
 *
 * The first context taken also makes the meter's instruments, once: the calls wait in the registry's
 * log, and an app's collection in the same turn (a shutdown right after its last calls) applies them
 * only through the observable instruments' callbacks, so those must exist by then. A meter provider
 * registered after that first call is picked up when the next batch is applied.
 */
function gatedCapture(open: () => boolean, traces: OtelTraceExporter, metrics: OtelMetricsExporter): CallerCapture {
  const traceContext = traces.captures.context;
  let prepared = false;
  return {
    context: () => {
      if (!open()) return undefined;
      if (!prepared) {
        prepared = true;
        try {
          metrics.prepare();
        } catch (err) {
          agentError('otel.metrics', err);
        }
      }
      return traceContext();
    },
    details: traces.captures.details,
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
    this.subscribed = gatedListener(open, [traces, this.metrics.events], gatedCapture(open, traces, this.metrics));
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
