/**
 * `SspiInstrumentation`: the agent as a standard OpenTelemetry instrumentation, for apps that set up
 * their own NodeSDK instead of starting with `node --import sspi-agent`:
 *
 *   new NodeSDK({ instrumentations: [new SspiInstrumentation()] }).start();
 *
 * Enabling starts the agent (unless the preload did) and routes its spans and metrics to the
 * providers the SDK gives the instrumentation; koffi is instrumented when the app loads it (CommonJS
 * through require-in-the-middle, ES modules through the agent's loader hook). Disabling undoes what
 * enabling did: an agent it started is suspended — koffi's `load`, each library's declaration
 * methods and node-expose-sspi's functions are put back, functions declared meanwhile pass straight
 * through — and the running agent of a preload goes back to the global providers. Enabling again
 * resumes the same agent: its books, its guard against double frees, and the functions declared
 * before, which are tracked again.
 */
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { runningAgent, startAgent, type Agent } from './agent.js';
import { readConfig } from './config-reader.js';
import { agentError } from './diagnostics.js';
import { otelApi } from './otel/api.js';
import { InstrumentationBase, instrumentationPackage } from './otel/instrumentation-base.js';
import { AGENT_VERSION, MeterSource, TracerSource } from './otel/providers.js';
import { INSTRUMENTATION_SCOPE, type CallSpans } from './otel/semconv.js';
import type { SspiInstrumentationConfig } from './instrumentation-config.js';

/** The koffi versions the agent instruments (as its peer dependency says). */
const KOFFI_VERSIONS = ['>=2.8.0 <4'];
const NODE_EXPOSE_SSPI_VERSIONS = ['>=0.1.0 <1'];

export class SspiInstrumentation extends InstrumentationBase<SspiInstrumentationConfig> {
  // `declare`: the base constructor already calls enable() and the provider setters, before field
  // initialisers of this class would run (and reset what they set).
  private declare _tracerProvider: TracerProvider | undefined;
  private declare _meterProvider: MeterProvider | undefined;
  /** While enabled: the agent in use, whether this instrumentation started it, and how to hand the telemetry back. */
  private declare _agent: Agent | undefined;
  private declare _ownsAgent: boolean;
  private declare _detachTelemetry: (() => void) | undefined;

  constructor(config: SspiInstrumentationConfig = {}) {
    super(INSTRUMENTATION_SCOPE, AGENT_VERSION, config);
  }

  /** Called by OpenTelemetry's base only, so the package is there. */
  protected override init(): InstrumentationNodeModuleDefinition[] {
    const { InstrumentationNodeModuleDefinition } = instrumentationPackage!;
    return [
      // No per-module unpatch: disable() suspends the agent's patches all together, also those made
      // through the agent's ES module hook, which no module definition sees.
      new InstrumentationNodeModuleDefinition('koffi', KOFFI_VERSIONS, (exports: unknown) => this.patch('koffi', exports)),
      new InstrumentationNodeModuleDefinition('node-expose-sspi', NODE_EXPOSE_SSPI_VERSIONS, (exports: unknown) => this.patch('nodeExposeSspi', exports)),
    ];
  }

  override enable(): void {
    // On the stand-in base (no API, or one of the 2.x line) the instrumentation does nothing.
    if (!instrumentationPackage || this.isEnabled()) return;
    this.useAgent();
    super.enable();
  }

  override disable(): void {
    if (!this.isEnabled()) return;
    super.disable();
    this.releaseAgent();
  }

  override setTracerProvider(tracerProvider: TracerProvider): void {
    this._tracerProvider = tracerProvider;
    super.setTracerProvider(tracerProvider);
  }

  override setMeterProvider(meterProvider: MeterProvider): void {
    this._meterProvider = meterProvider;
    super.setMeterProvider(meterProvider);
  }

  override setConfig(config: SspiInstrumentationConfig = {}): void {
    super.setConfig(config);
    // Called by the base constructor too, before anything is attached; a disabled one stays detached.
    if (this._agent && this.isEnabled()) this.attachTelemetry(this._agent);
  }

  private patch(hook: 'koffi' | 'nodeExposeSspi', exports: unknown): unknown {
    try {
      this._agent?.[hook].patchModule(exports);
    } catch (err) {
      agentError('otel.instrumentation.patch', err);
    }
    return exports;
  }

  private useAgent(): void {
    try {
      const running = runningAgent();
      // Its own agent, suspended by disable(), and not stopped since (through the API): the same books.
      if (this._agent && this._ownsAgent && running === this._agent) {
        this._agent.resume();
        this.attachTelemetry(this._agent);
        return;
      }
      // An agent of its own sends OpenTelemetry only through this instrumentation: no bootstrap, no globals.
      const agent = running ?? startAgent({ ...readConfig(), ...this._config.agent, otel: 'off' });
      this._agent = agent;
      this._ownsAgent = running === undefined && agent !== undefined;
      if (agent) this.attachTelemetry(agent);
      else this._diag.debug('the agent is disabled (SSPI_AGENT_ENABLED=0): nothing is instrumented');
    } catch (err) {
      agentError('otel.instrumentation.enable', err);
    }
  }

  private attachTelemetry(agent: Agent): void {
    this._detachTelemetry?.();
    this._detachTelemetry = agent.telemetry.attach({
      tracers: new TracerSource(() => this._tracerProvider ?? otelApi().trace.getTracerProvider()),
      meters: new MeterSource(() => this._meterProvider ?? otelApi().metrics.getMeterProvider()),
      callSpans: callSpansOf(this._config.callSpans) ?? agent.config.callSpans,
      leakSpans: this._config.leakSpans ?? agent.config.leakSpans,
    });
  }

  /** Keeps its own agent, suspended, for enable(); a preload's agent only gets its global providers back. */
  private releaseAgent(): void {
    try {
      if (this._ownsAgent) this._agent?.suspend();
      else this._agent = undefined;
    } catch (err) {
      agentError('otel.instrumentation.disable', err);
    }
    this._detachTelemetry?.();
    this._detachTelemetry = undefined;
  }
}

/** The instrumentation's `callSpans` option as the agent's setting (a boolean meant on or off before there were sets). */
function callSpansOf(option: CallSpans | boolean | undefined): CallSpans | undefined {
  return option === true ? 'work' : option === false ? 'off' : option;
}
