// Two reference points for the agent's per-call figures, measured in the same child and the same way
// (interleaved with the raw binding), on a third binding of the un-instrumented library whose koffi
// functions are replaced by:
//   - pass-through: a JS function that calls the koffi function (rest args + apply), nothing else;
//   - minimal tracking: what any agent that tracks handles and guards releases must do on the call's
//     own path, and no more: read each handle argument (the agent's own readHandle / bufferKey), look
//     each one up once in a Map (the guard), time the native call, read the handle it wrote, and keep
//     those facts in a preallocated ring. No registry, no metrics, no stacks.
//   - minimal tracking + one SDK span per call (measured where the app registered an SDK): the
//     minimal wrapper, and for each call of the default span set (SSPI_AGENT_CALL_SPANS=work) one span
//     of the app's tracer, child of the active context, with the call's times and the attributes the
//     agent gives it (function, status name and code, error type, handle kind, package, direction).
// The agent's ratio minus the minimal one is what the agent's bookkeeping costs; the minimal ratio is
// a floor for this design (a JS wrapper around koffi declarations) on this machine, and the one with
// spans the floor for call spans.
import koffi from 'koffi';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { bufferKey, readHandle } from '../../dist/hooks/handle-shapes.js';
import { nativeMemory } from '../../dist/hooks/native-memory.js';
import { sspiFunction } from '../../dist/sspi/functions.js';
import { CALL_SPAN_FUNCTIONS } from '../../dist/otel/semconv.js';
import { statusName } from '../../dist/sspi/status-names.js';
import { loadSspi } from '../../examples/lib/sspi-binding.mjs';

/** Native memory read the way the agent reads it. */
const memory = nativeMemory(koffi);

function passThrough(original) {
  return function (...args) {
    return original.apply(this, args);
  };
}

/** A handle key as the agent's readers give it: a packed Number, or a BigInt when it does not pack. */
const isKey = (key) => typeof key === 'number' || typeof key === 'bigint';

/** What the minimal wrapper keeps per call (a ring, so it allocates nothing but the keys). */
const RING = 4096;
const ring = new Array(RING * 4).fill(undefined);
let next = 0;
/** Handle values seen, for the one lookup per handle argument the guard needs. */
const seen = new Map();

/** What the span floor knows of each handle value it saw made: its kind, package and direction. */
const KIND_OF_ROLE = { 'acquire-credential': 'credential', 'init-context': 'context', 'accept-context': 'context', 'import-context': 'context' };
const DIRECTION_OF_USE = { 1: 'inbound', 2: 'outbound', 3: 'both' };

/** `onCall(fn, args, result, start, end, out, known)`, after the minimal wrapper's own work. */
function minimalTracking(original, fn, onCall) {
  const read = (args, position) => (position === undefined ? undefined : readHandle(args[position], memory));
  return function (...args) {
    const context = read(args, fn.contextArg);
    const credential = read(args, fn.credentialArg);
    const buffer = fn.bufferArg === undefined ? undefined : bufferKey(args[fn.bufferArg], memory);
    let known = 0;
    if (isKey(context) && seen.get(context) !== undefined) known++;
    if (isKey(credential) && seen.get(credential) !== undefined) known++;
    if (isKey(buffer) && seen.get(buffer) !== undefined) known++;
    const start = performance.now();
    const result = original.apply(this, args);
    const end = performance.now();
    const out = result >= 0 ? read(args, fn.outHandleArg) : undefined;
    if (isKey(out)) seen.set(out, known);
    const slot = (next++ % RING) * 4;
    ring[slot] = fn;
    ring[slot + 1] = result;
    ring[slot + 2] = end - start;
    ring[slot + 3] = out ?? context ?? credential ?? buffer;
    onCall?.(fn, args, result, start, end, out, context ?? credential);
    return result;
  };
}

const tracer = trace.getTracer('bench-span-floor');
/** Per handle value made, what its spans say of it (kept apart from `seen`, whose values are the guard's). */
const described = new Map();

/** One span per call of the default span set, as the agent makes it. */
function spanOf(fn, args, result, start, end, out, used) {
  if (!CALL_SPAN_FUNCTIONS.work.has(fn.name)) return;
  const name = statusName(result);
  const attributes = { 'sspi.function': fn.name, 'sspi.status': name, 'sspi.status_code': result >>> 0 };
  if (result < 0) attributes['error.type'] = name;
  let about = isKey(used) ? described.get(used) : undefined;
  if (isKey(out) && KIND_OF_ROLE[fn.role]) {
    const direction = fn.role === 'acquire-credential' ? DIRECTION_OF_USE[args[fn.credentialUseArg] & 3] : fn.role === 'init-context' ? 'outbound' : 'inbound';
    const pkg = fn.packageArg !== undefined ? String(args[fn.packageArg]) : isKey(used) ? described.get(used)?.package : undefined;
    about = { kind: KIND_OF_ROLE[fn.role], package: pkg, direction };
    described.set(out, about);
  }
  if (about) {
    attributes['sspi.handle.kind'] = about.kind;
    if (about.package) attributes['sspi.package'] = about.package;
    attributes['sspi.handle.direction'] = about.direction;
  }
  const span = tracer.startSpan(fn.name, { kind: SpanKind.INTERNAL, startTime: start, attributes }, context.active());
  if (result < 0) span.setStatus({ code: SpanStatusCode.ERROR, message: name });
  span.end(end);
}

/** The bench's binding on `libraryPath` with every declared SSPI function wrapped by `kind`. */
export function referenceBinding(libraryPath, kind) {
  const binding = loadSspi(koffi, libraryPath);
  for (const [name, original] of Object.entries(binding.raw)) {
    const fn = sspiFunction(name);
    binding.raw[name] = kind === 'pass-through' || !fn ? passThrough(original) : minimalTracking(original, fn, kind === 'minimal-spans' ? spanOf : undefined);
  }
  return binding;
}

export const REFERENCE_KINDS = ['pass-through', 'minimal-tracking'];
/** Measured in the call-spans child only: it needs the app's SDK. */
export const SPAN_REFERENCE_KINDS = ['minimal-spans'];
