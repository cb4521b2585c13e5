/**
 * Failed OTLP exports of the SDK the agent starts itself, counted in `sspi_agent_errors_total`
 * under `where="otel.export"` and logged once (the first failure's error), like every other failure
 * of the agent. A collector that is down, hangs or refuses the data otherwise fails in silence: the
 * SDK hands a failed export to OpenTelemetry's global error handler, which logs only when the app set
 * a diagnostic logger.
 *
 * The agent builds the OTLP exporters itself, as sdk-node would from the same OTEL_* variables (the
 * same classes, constructed without arguments, so each reads its endpoint, headers, timeout and
 * compression from the environment), wraps each one's `export()` result callback, and hands them to
 * NodeSDK: the trace exporter as `traceExporter` (which sdk-node puts in the batch span processor it
 * configures from OTEL_BSP_*), the metric exporter in a periodic reader configured from
 * OTEL_METRIC_EXPORT_INTERVAL/TIMEOUT as sdk-node does. The wrapper holds nothing: no queue, no
 * retry; the export, its retries and its timeout stay the exporter's. Any other exporter setting
 * (console, zipkin, prometheus, none, a list, an unknown protocol) is left to sdk-node as it is,
 * uncounted.
 */
import { createRequire } from 'node:module';
import { agentError } from '../diagnostics.js';

/** Where export failures are counted. */
export const EXPORT_FAILURE_WHERE = 'otel.export';

/** An exporter as the SDK's processors and readers call it: `export(items, done)`, done once with an ExportResult. */
interface Exporter {
  export(items: unknown, done: (result: { code: number; error?: Error }) => void): void;
}

/** ExportResultCode.SUCCESS of @opentelemetry/core. */
const SUCCESS = 0;

/** What went wrong, in one line (a network error's stack says nothing more); never throws. */
function reason(error: unknown): string {
  try {
    return error instanceof Error ? error.message || error.name : error === undefined ? 'no reason given' : String(error);
  } catch {
    return 'an error that cannot be described';
  }
}

/** Counts every failed result of `exporter.export()` (on the instance: the class is untouched). */
export function countExportFailures<E extends Exporter>(exporter: E): E {
  const original = exporter.export;
  exporter.export = function (this: E, items, done) {
    return original.call(this, items, (result) => {
      if (result?.code !== SUCCESS) {
        agentError(
          EXPORT_FAILURE_WHERE,
          `an OTLP export failed: ${reason(result?.error)} (the collector is down, hangs or refused the data; every failed export is counted in sspi_agent_errors_total{where="${EXPORT_FAILURE_WHERE}"})`,
        );
      }
      done(result);
    });
  };
  return exporter;
}

/** The NodeSDK options that replace its own OTLP exporters with counted ones. */
export interface CountedExports {
  traceExporter?: unknown;
  metricReaders?: unknown[];
}

interface EnvHelpers {
  getStringFromEnv(name: string): string | undefined;
  getStringListFromEnv(name: string): string[] | undefined;
  getNumberFromEnv(name: string): number | undefined;
}

type ExporterClass = new () => Exporter;

const TRACE_EXPORTERS: Record<string, [string, string]> = {
  grpc: ['@opentelemetry/exporter-trace-otlp-grpc', 'OTLPTraceExporter'],
  'http/json': ['@opentelemetry/exporter-trace-otlp-http', 'OTLPTraceExporter'],
  'http/protobuf': ['@opentelemetry/exporter-trace-otlp-proto', 'OTLPTraceExporter'],
};

const METRIC_EXPORTERS: Record<string, [string, string]> = {
  grpc: ['@opentelemetry/exporter-metrics-otlp-grpc', 'OTLPMetricExporter'],
  'http/json': ['@opentelemetry/exporter-metrics-otlp-http', 'OTLPMetricExporter'],
  'http/protobuf': ['@opentelemetry/exporter-metrics-otlp-proto', 'OTLPMetricExporter'],
};

/**
 * Counted OTLP exporters for what the OTEL_* variables ask: each signal whose exporter is OTLP alone
 * (named, or the default when unset) with a known protocol. `sdkNodeEntry` is sdk-node's resolved
 * path: the exporters, readers and helpers are required from there, the copies sdk-node itself uses.
 */
export function countedExportsFromEnv(sdkNodeEntry: string): CountedExports {
  const fromSdkNode = createRequire(sdkNodeEntry);
  const env = fromSdkNode('@opentelemetry/core') as EnvHelpers;
  const load = ([module, name]: [string, string]) => (fromSdkNode(module) as Record<string, ExporterClass>)[name];
  const out: CountedExports = {};

  // Traces, as sdk-node reads them: the list without 'null'; empty means otlp.
  const traces = [...new Set(env.getStringListFromEnv('OTEL_TRACES_EXPORTER') ?? [])].filter((s) => s !== 'null');
  if (traces.length === 0 || (traces.length === 1 && traces[0] === 'otlp')) {
    const protocol = env.getStringFromEnv('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? env.getStringFromEnv('OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf';
    const exporter = TRACE_EXPORTERS[protocol];
    if (exporter) out.traceExporter = countExportFailures(new (load(exporter))());
  }

  // Metrics: empty means otlp; a periodic reader with sdk-node's interval and timeout.
  const metrics = [...new Set(env.getStringListFromEnv('OTEL_METRICS_EXPORTER') ?? [])];
  if (metrics.length === 0 || (metrics.length === 1 && metrics[0] === 'otlp')) {
    const protocol =
      (env.getStringFromEnv('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL') ?? env.getStringFromEnv('OTEL_EXPORTER_OTLP_PROTOCOL'))?.trim() || 'http/protobuf';
    const exporter = METRIC_EXPORTERS[protocol];
    if (exporter) {
      const { PeriodicExportingMetricReader } = fromSdkNode('@opentelemetry/sdk-metrics') as {
        PeriodicExportingMetricReader: new (options: { exporter: Exporter; exportIntervalMillis: number; exportTimeoutMillis: number }) => unknown;
      };
      // As sdk-node reads them: 0 or less is unset (the reader refuses 0).
      const positive = (name: string) => {
        const value = env.getNumberFromEnv(name);
        return value !== undefined && value > 0 ? value : undefined;
      };
      const exportIntervalMillis = positive('OTEL_METRIC_EXPORT_INTERVAL') ?? 60_000;
      const exportTimeoutMillis = Math.min(positive('OTEL_METRIC_EXPORT_TIMEOUT') ?? 30_000, exportIntervalMillis);
      out.metricReaders = [new PeriodicExportingMetricReader({ exporter: countExportFailures(new (load(exporter))()), exportIntervalMillis, exportTimeoutMillis })];
    }
  }
  return out;
}
