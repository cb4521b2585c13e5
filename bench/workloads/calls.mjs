// Child process, started under `node --import sspi-agent` with one agent configuration (stacks mode,
// or call spans with an SDK the app registers): times each per-call workload through the raw and the
// instrumented binding of the same WinPR, interleaved, and writes the result as JSON to argv[3].
// argv[2] is the JSON sizes; with `references` it also times the reference wrappers, and with `spans`
// the span floor (the minimal wrapper making the agent's default call spans through the same SDK).
import { writeFileSync } from 'node:fs';
import { interleave } from '../lib/stats.mjs';
import { startCountingSdk } from '../lib/otel-sdk.mjs';
import { checkedHandshake, loadBindings, operations } from '../lib/sspi.mjs';
import { referenceBinding, REFERENCE_KINDS, SPAN_REFERENCE_KINDS } from '../lib/reference-wrappers.mjs';

const sizes = JSON.parse(process.argv[2]);
const outFile = process.argv[3];

const sdk = sizes.spans ? await startCountingSdk() : undefined;
const { raw, wrapped, samFile, settle, cleanup } = await loadBindings();
checkedHandshake(raw, samFile);
checkedHandshake(wrapped, samFile);
const rawOps = operations(raw, samFile);
const wrappedOps = operations(wrapped, samFile);

const WORKLOADS = ['handshake', 'acquireFree', 'queryInfoFree'];
const workloads = {};
for (const name of WORKLOADS) {
  workloads[name] = await interleave({ raw: rawOps[name], wrapped: wrappedOps[name], settle }, sizes[name]);
}

// The reference wrappers (bench/lib/reference-wrappers.mjs), against the same raw binding.
const references = {};
for (const kind of [...(sizes.references ? REFERENCE_KINDS : []), ...(sizes.spans ? SPAN_REFERENCE_KINDS : [])]) {
  const binding = referenceBinding(raw.libraryPath, kind);
  checkedHandshake(binding, samFile);
  const ops = operations(binding, samFile);
  references[kind] = {};
  for (const name of WORKLOADS) references[kind][name] = await interleave({ raw: rawOps[name], wrapped: ops[name] }, sizes[name]);
}
cleanup();
const spans = await sdk?.stop();
writeFileSync(outFile, JSON.stringify({ stacks: process.env.SSPI_AGENT_STACKS ?? 'default', workloads, references, spans }));
