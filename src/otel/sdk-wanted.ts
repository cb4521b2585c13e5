/**
 * Whether the agent is asked to start an OpenTelemetry SDK of its own: by SSPI_AGENT_OTEL=sdk, or, at
 * `auto`, by the standard OTEL_* variables asking for export. Read at start, before anything of
 * OpenTelemetry is loaded: only then is the agent's OpenTelemetry side loaded at once.
 */

/**
 * `auto`: use the app's SDK; start one when OTEL_* variables ask for export and the app has none.
 * `sdk`: start one whenever the app has none (OTLP/HTTP to localhost:4318 unless OTEL_* say otherwise).
 * `global`: use the app's SDK only. `off`: no OpenTelemetry at all.
 */
export type OtelMode = 'auto' | 'sdk' | 'global' | 'off';

export function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['true', '1', 'yes', 'on'].includes(value.trim().toLowerCase());
}

function exporterAsked(value: string | undefined): boolean {
  if (value === undefined || value.trim() === '') return false;
  return value.split(',').some((v) => v.trim() !== '' && v.trim().toLowerCase() !== 'none');
}

/** Whether the OTEL_* variables ask for export: an exporter other than `none`, or an OTLP endpoint. */
export function otelVariablesAskForExport(env: NodeJS.ProcessEnv): boolean {
  return (
    exporterAsked(env.OTEL_TRACES_EXPORTER) ||
    exporterAsked(env.OTEL_METRICS_EXPORTER) ||
    [env.OTEL_EXPORTER_OTLP_ENDPOINT, env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT].some(
      (v) => v !== undefined && v.trim() !== '',
    )
  );
}

/** Whether the mode and the variables ask for the agent's own SDK (when the app registers none). */
export function sdkWanted(mode: OtelMode, env: NodeJS.ProcessEnv): boolean {
  if (mode === 'off' || mode === 'global' || isTrue(env.OTEL_SDK_DISABLED)) return false;
  return mode === 'sdk' || otelVariablesAskForExport(env);
}
