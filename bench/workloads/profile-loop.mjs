// Child process for `npm run bench -- --profile`: under `node --cpu-prof --import <the agent>`, runs one
// workload through the instrumented binding only, for a fixed time, so the profile shows where an
// instrumented call spends its time, optionally with `live` tracked handles held first.
// `reference`: instead, one of bench/lib/reference-wrappers.mjs's wrappers on the un-instrumented
// library (the agent loaded and idle, as where the calls group measures it), for a profile to set
// beside the agent's.
// argv[2]: JSON { workload, ms, spans, live, reference }; argv[3]: output file.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { startCountingSdk } from '../lib/otel-sdk.mjs';
import { referenceBinding } from '../lib/reference-wrappers.mjs';
import { checkedHandshake, loadBindings, operations } from '../lib/sspi.mjs';

const { workload, ms, spans, live = 0, reference } = JSON.parse(process.argv[2]);
const sdk = spans ? await startCountingSdk() : undefined;
const { raw, wrapped, samFile, cleanup } = await loadBindings();
const binding = reference ? referenceBinding(raw.libraryPath, reference) : wrapped;
checkedHandshake(binding, samFile);
const op = operations(binding, samFile)[workload];
const held = [];
while (held.length < live) held.push(binding.acquireServerCredentials());

/** Batches of 100 with a turn of the event loop between them (as between an app's requests), for `ms`. */
async function measuredLoop() {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) op();
    n += 100;
    await new Promise(setImmediate);
  }
  return n;
}

// The profile's window, in the profiler's clock (both are CLOCK_MONOTONIC, in µs here).
const windowStart = Number(process.hrtime.bigint() / 1000n);
const ops = await measuredLoop();
const windowEnd = Number(process.hrtime.bigint() / 1000n);
// The API of the build the parent preloaded (its readable bundle), so that it meets the same agent.
if (live) await (await import(process.env.SSPI_AGENT_BENCH_API ?? 'sspi-agent/api')).stop(); // spares releasing them one by one, and the exit report
cleanup();
await sdk?.stop();
writeFileSync(process.argv[3], JSON.stringify({ workload, ops, window: [windowStart, windowEnd] }));
