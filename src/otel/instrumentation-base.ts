/**
 * Where SspiInstrumentation's base class comes from: `@opentelemetry/instrumentation` (3.x), required
 * here instead of imported so that `sspi-agent/api` still loads where the OpenTelemetry API is not
 * installed (an optional peer dependency) — its Prometheus registry and reports need none.
 *
 * The 3.x base works with the API 1.10 or newer only (its constructor asks the API for a logger). An
 * app without the API, or on the 2.x line, gets a stand-in base instead: an SDK can hold and enable the
 * instrumentation, which does nothing and says once why.
 */
import { createRequire } from 'node:module';
import type * as Otel from '@opentelemetry/instrumentation';
import { warnOnce } from '../diagnostics.js';
import { otel3Unavailable } from './api.js';

type InstrumentationPackage = typeof Otel;

/** Why the base is the stand-in, or undefined when it is OpenTelemetry's. */
let unavailable = otel3Unavailable();

/** The members of an instrumentation an SDK calls, doing nothing. */
class UnavailableInstrumentation {
  protected _config: Otel.InstrumentationConfig;

  constructor(
    readonly instrumentationName: string,
    readonly instrumentationVersion: string,
    config: Otel.InstrumentationConfig,
  ) {
    this._config = { ...config };
    warnOnce('otel.instrumentation.unavailable', `SspiInstrumentation does nothing here: ${unavailable}`);
  }

  enable(): void {}
  disable(): void {}
  isEnabled(): boolean {
    return false;
  }
  setTracerProvider(): void {}
  setMeterProvider(): void {}
  getConfig(): Otel.InstrumentationConfig {
    return this._config;
  }
  setConfig(config: Otel.InstrumentationConfig = {}): void {
    this._config = { ...config };
  }
}

function load(): InstrumentationPackage | undefined {
  if (unavailable) return undefined;
  try {
    return createRequire(import.meta.url)('@opentelemetry/instrumentation') as InstrumentationPackage;
  } catch (err) {
    unavailable = `@opentelemetry/instrumentation cannot be loaded (${err instanceof Error ? err.message : String(err)})`;
    return undefined;
  }
}

/** @opentelemetry/instrumentation, when it works here. */
export const instrumentationPackage: InstrumentationPackage | undefined = load();

/** OpenTelemetry's InstrumentationBase, or the stand-in (typed alike: SspiInstrumentation's public shape does not change). */
export const InstrumentationBase: InstrumentationPackage['InstrumentationBase'] =
  instrumentationPackage?.InstrumentationBase ?? (UnavailableInstrumentation as unknown as InstrumentationPackage['InstrumentationBase']);
