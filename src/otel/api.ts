/**
 * The OpenTelemetry API, loaded the first time the agent needs it — when an SDK registered, or the
 * agent starts one. An app without OpenTelemetry never loads it: the agent's start costs nothing more.
 * (An app with an SDK loaded it already: this is then a cache hit on the same module.)
 */
import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';

let api: typeof Api | undefined;

export function otelApi(): typeof Api {
  return (api ??= createRequire(import.meta.url)('@opentelemetry/api') as typeof Api);
}
