// Two reference points for the agent's per-call figures, measured in the same child and the same way
// (interleaved with the raw binding), on a third binding of the un-instrumented library whose koffi
// functions are replaced by:
//   - pass-through: a JS function that calls the koffi function (rest args + apply), nothing else;
//   - minimal tracking: what any agent that tracks handles and guards releases must do on the call's
//     own path, and no more: read each handle argument (the agent's own readHandle / bufferKey), look
//     each one up once in a Map (the guard), time the native call, read the handle it wrote, and keep
//     those facts in a preallocated ring. No registry, no metrics, no stacks.
// The agent's ratio minus the minimal one is what the agent's bookkeeping costs; the minimal ratio is
// a floor for this design (a JS wrapper around koffi declarations) on this machine.
import koffi from 'koffi';
import { performance } from 'node:perf_hooks';
import { bufferKey, readHandle } from '../../dist/hooks/handle-shapes.js';
import { nativeMemory } from '../../dist/hooks/native-memory.js';
import { sspiFunction } from '../../dist/sspi/functions.js';
import { loadSspi } from '../../examples/lib/sspi-binding.mjs';

/** Native memory read the way the agent reads it. */
const memory = nativeMemory(koffi);

function passThrough(original) {
  return function (...args) {
    return original.apply(this, args);
  };
}

/** What the minimal wrapper keeps per call (a ring, so it allocates nothing but the keys). */
const RING = 4096;
const ring = new Array(RING * 4).fill(undefined);
let next = 0;
/** Handle values seen, for the one lookup per handle argument the guard needs. */
const seen = new Map();

function minimalTracking(original, fn) {
  const read = (args, position) => (position === undefined ? undefined : readHandle(args[position], memory));
  return function (...args) {
    const context = read(args, fn.contextArg);
    const credential = read(args, fn.credentialArg);
    const buffer = fn.bufferArg === undefined ? undefined : bufferKey(args[fn.bufferArg], memory);
    let known = 0;
    if (typeof context === 'bigint' && seen.get(context) !== undefined) known++;
    if (typeof credential === 'bigint' && seen.get(credential) !== undefined) known++;
    if (typeof buffer === 'bigint' && seen.get(buffer) !== undefined) known++;
    const start = performance.now();
    const result = original.apply(this, args);
    const end = performance.now();
    const out = result >= 0 ? read(args, fn.outHandleArg) : undefined;
    if (typeof out === 'bigint') seen.set(out, known);
    const slot = (next++ % RING) * 4;
    ring[slot] = fn;
    ring[slot + 1] = result;
    ring[slot + 2] = end - start;
    ring[slot + 3] = out ?? context ?? credential ?? buffer;
    return result;
  };
}

/** The bench's binding on `libraryPath` with every declared SSPI function wrapped by `kind`. */
export function referenceBinding(libraryPath, kind) {
  const binding = loadSspi(koffi, libraryPath);
  for (const [name, original] of Object.entries(binding.raw)) {
    const fn = sspiFunction(name);
    binding.raw[name] = kind === 'pass-through' || !fn ? passThrough(original) : minimalTracking(original, fn);
  }
  return binding;
}

export const REFERENCE_KINDS = ['pass-through', 'minimal-tracking'];
