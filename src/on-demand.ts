/**
 * The parts of the agent a process may never need, loaded the first time one is: the OpenTelemetry
 * side (when something registers with the API), the worker threads' hub (when a worker starts), the
 * end-of-process work (when there is something to report), the node-expose-sspi hook (when that
 * addon loads). Every process pays for compiling what its agent loads at start, so the start loads
 * only what its first moments need (see "Start-up" in docs/architecture.md).
 *
 * Each part is an entry of the bundle (scripts/bundle.mjs), beside this module in dist/ and in
 * dist/bundle/ alike, and is loaded synchronously (`require` of an ES module): a part's first use
 * is inside an SSPI call, a registry event or an 'exit' handler, where nothing can be awaited. What
 * it shares with the rest of the agent comes from the chunks already loaded: one copy of each module.
 */
// Taken from the built-in module, not imported: see "Start-up" in docs/architecture.md.
const { createRequire } = process.getBuiltinModule('node:module');

/** The parts, as paths relative to this module: scripts/bundle.mjs makes each an entry of the bundle. */
export const ON_DEMAND_PARTS = [
  './core/lifecycle.js',
  './exit-report.js',
  './exporters/leak-report.js',
  './exporters/prometheus.js',
  './hooks/call-observer.js',
  './hooks/node-expose-sspi-hook.js',
  './telemetry.js',
  './workers/worker-hub.js',
  './workers/worker-link.js',
  './workers/worker-scrapes.js',
] as const;

export type OnDemandPart = (typeof ON_DEMAND_PARTS)[number];

let require: NodeJS.Require | undefined;

/** The part's module, loaded at the first call (`T`: its type, `typeof import` of the same path). */
export function onDemand<T>(path: OnDemandPart): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= (require ??= createRequire(import.meta.url))(path) as T);
}
