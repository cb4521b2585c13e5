/**
 * prom-client, loaded the first time something reads the metrics as Prometheus does (a scrape of
 * `/metrics`, the API's `registry()`): loading it costs a process tens of milliseconds and about
 * 10 MiB, and counting needs none of it (the series are the agent's own, series.ts). Synchronous,
 * because `registry()` is.
 *
 * Resolved from the agent's location, as `import 'prom-client'` would: an app that imports
 * prom-client itself gets the same module, so registries merge across both.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

let loaded: typeof PromClient | undefined;

export function promClient(): typeof PromClient {
  return (loaded ??= createRequire(import.meta.url)('prom-client') as typeof PromClient);
}
