/**
 * The agent's own OpenTelemetry SDK, for apps that have none: `@opentelemetry/sdk-node` configured
 * entirely from the standard OTEL_* variables (service name, resource attributes, exporters, protocol,
 * endpoint, sampler), started only when those variables ask for export (or SSPI_AGENT_OTEL=sdk) and
 * the app registered no SDK of its own.
 *
 * It is loaded at startup (requiring sdk-node takes a few hundred milliseconds: not something to do
 * inside the app's first SSPI call) but started lazily, at the agent's first SSPI event: an app that
 * starts its own NodeSDK at startup — the usual way, and with OTEL_EXPORTER_OTLP_ENDPOINT set too — has
 * done so by then, and the agent then uses the app's SDK instead of taking the global registration
 * from it.
 *
 * Its OTLP exporters are the agent's own (see export-failures.ts): a failed export is counted in
 * `sspi_agent_errors_total{where="otel.export"}` and logged once.
 *
 * The SDK is OpenTelemetry JS 3.x, which needs the API 1.10 or newer. An app on the 2.x line has an
 * older API, which the agent shares (a peer dependency): the SDK is then not even loaded — the app's
 * own 2.x SDK, the usual case there, takes the agent's signals — and only an app that has none hears
 * why none starts.
 */
import { createRequire } from 'node:module';
import { otel3Unavailable, otelApi, tryOtelApi } from './api.js';
import { agentError, debug, warnOnce } from '../diagnostics.js';
import { countedExportsFromEnv, type CountedExports } from './export-failures.js';
import { globalSdkRegistered } from './providers.js';
import { isTrue, sdkWanted, type OtelMode } from './sdk-wanted.js';

export { otelVariablesAskForExport, type OtelMode } from './sdk-wanted.js';

interface NodeSdk {
  start(): void;
  shutdown(): Promise<void>;
}
type NodeSdkClass = new (configuration: { instrumentations: unknown[] } & CountedExports) => NodeSdk;

export class SdkBootstrap {
  private tried = false;
  private sdk: NodeSdk | undefined;

  private constructor(
    /** sdk-node's NodeSDK and its resolved path (the exporters are required from there), or why it cannot start. */
    private readonly sdkNode: { NodeSDK: NodeSdkClass; entry: string } | { unavailable: string },
  ) {}

  /** A bootstrap ready to start, or undefined when the mode and the OTEL_* variables do not ask for one. */
  static prepare(mode: OtelMode, env: NodeJS.ProcessEnv = process.env): SdkBootstrap | undefined {
    if (!sdkWanted(mode, env)) {
      if (mode !== 'off' && mode !== 'global' && isTrue(env.OTEL_SDK_DISABLED)) debug('OTEL_SDK_DISABLED: no OpenTelemetry SDK is started');
      return undefined;
    }
    if (!tryOtelApi(mode === 'sdk' ? 'SSPI_AGENT_OTEL=sdk asks for an OpenTelemetry SDK' : 'the OTEL_* variables ask for OpenTelemetry export')) return undefined;
    const unavailable = otel3Unavailable();
    if (unavailable) return new SdkBootstrap({ unavailable });
    try {
      const require = createRequire(import.meta.url);
      const entry = require.resolve('@opentelemetry/sdk-node');
      const { NodeSDK } = require(entry) as { NodeSDK: NodeSdkClass };
      return new SdkBootstrap({ NodeSDK, entry });
    } catch (err) {
      agentError('otel.bootstrap', err);
      return undefined;
    }
  }

  /** Whether it decided, at the first SSPI event, to start an SDK or to leave it to the app's. */
  get decided(): boolean {
    return this.tried;
  }

  /** Whether it started an SDK (then it owns the global providers). */
  get started(): boolean {
    return this.sdk !== undefined;
  }

  /** Starts the SDK once, unless the app registered its own by now. Cheap after the first call. */
  ensure(): void {
    if (this.tried) return;
    this.tried = true;
    if (globalSdkRegistered()) {
      debug('the app registered an OpenTelemetry SDK: the agent uses it and starts none');
      return;
    }
    if ('unavailable' in this.sdkNode) {
      warnOnce('otel.bootstrap.unavailable', `OpenTelemetry export is asked for and the app registered no SDK, but the agent cannot start one: ${this.sdkNode.unavailable}`);
      return;
    }
    const { NodeSDK, entry } = this.sdkNode;
    try {
      // No instrumentations: everything else (exporters, resource, sampler) comes from OTEL_* variables;
      // the OTLP exporters they ask for are built here, to count their failures.
      const sdk = new NodeSDK({ instrumentations: [], ...this.countedExports(entry) });
      sdk.start();
      this.sdk = sdk;
      debug('started @opentelemetry/sdk-node from the OTEL_* variables');
    } catch (err) {
      agentError('otel.bootstrap', err);
    }
  }

  /** OTLP exporters that count their failures; none (sdk-node's own, uncounted) if they cannot be built. */
  private countedExports(sdkNodeEntry: string): CountedExports {
    try {
      return countedExportsFromEnv(sdkNodeEntry);
    } catch (err) {
      agentError('otel.bootstrap', err);
      return {};
    }
  }

  /** Exports everything pending and shuts the SDK down (the process is ending, or the agent stops). */
  async shutdown(): Promise<void> {
    const sdk = this.sdk;
    if (!sdk) return;
    this.sdk = undefined;
    try {
      await sdk.shutdown();
    } finally {
      // What the SDK registered goes with it, so another SDK could register after.
      const { context, logs, metrics, propagation, trace } = otelApi();
      trace.disable();
      metrics.disable();
      logs.disable();
      propagation.disable();
      context.disable();
    }
  }
}
