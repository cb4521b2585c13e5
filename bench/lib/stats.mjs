// Summaries and the interleaved raw-vs-wrapped timing loop every workload uses.
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';

/** The q-quantile of a sample, interpolated between the two nearest values. */
export function quantile(values, q) {
  return quantileOfSorted([...values].sort((a, b) => a - b), q);
}

function quantileOfSorted(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Median, quartiles, min, max and mean of a sample (n rounds). */
export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    median: quantileOfSorted(sorted, 0.5),
    q1: quantileOfSorted(sorted, 0.25),
    q3: quantileOfSorted(sorted, 0.75),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/** A minor GC, when --expose-gc is on: before a single timed run, so garbage from before is not its cost. */
export function minorGc() {
  globalThis.gc?.({ type: 'minor', execution: 'sync' });
}

export function fullGc() {
  if (!globalThis.gc) throw new Error('run with --expose-gc');
  globalThis.gc();
  globalThis.gc();
}

/** GC pauses as V8 reports them ({startTime, duration} in ms), matched to batches afterwards. */
const gcPauses = [];
let gcObserver;
function watchGc() {
  if (gcObserver) return;
  gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.push([e.startTime, e.duration]);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
}

/** Runs `batch` calls of `op`, then `settle` if given; its window [start, end] in ms. */
function timeBatch(op, batch, settle) {
  const start = performance.now();
  for (let i = 0; i < batch; i++) op();
  settle?.();
  return [start, performance.now()];
}

/** GC pause time (ms) that started in [from, to). */
function gcBetween(from, to) {
  let ms = 0;
  for (const [at, duration] of gcPauses) if (at >= from && at < to) ms += duration;
  return ms;
}

/**
 * Runs `raw` and `wrapped` (each one operation) in batches of `batch`, alternating which goes first
 * each round (ABBA), after `warmup` discarded rounds. Each round gives one ratio wrapped/raw of two
 * batches run back to back, so load from elsewhere on the machine hits both sides alike. The event
 * loop turns between batches (untimed), as it does between an app's requests: what the agent defers
 * (an SDK's span export, finalizers) runs there, not inside the next batch.
 *
 * No GC is forced anywhere: V8 collects inside a batch (allocation failure) or in the turn after it (a
 * scavenge task). The per-round ratios time the batches alone, GC inside included; `amortizedRatio`
 * also charges each batch with the GC pauses of the turn that follows it (the garbage it left), as
 * total/total over all rounds.
 *
 * `settle`: applies what the wrapped side's calls left for later (the agent's registry applies
 * observed calls in batches, at the latest in the next event-loop turn): run inside the wrapped
 * batch's timed window, so that work is charged to the agent rather than to the untimed turn.
 *
 * `keep` also returns what a caller pooling several runs needs: the per-round figures (`perRound`),
 * the window [start, end] of the measured batches in performance.now() ms, the totals of each side,
 * and the length of every event-loop turn between two batches (`turnsMs`: what else ran meanwhile).
 */
export async function interleave({ raw, wrapped, settle }, { batch, rounds, warmup, keep = false }) {
  watchGc();
  const batches = [];
  for (let r = -warmup; r < rounds; r++) {
    const order = r % 2 === 0 ? ['raw', 'wrapped'] : ['wrapped', 'raw'];
    for (const side of order) {
      const [start, end] = side === 'raw' ? timeBatch(raw, batch) : timeBatch(wrapped, batch, settle);
      batches.push({ side, start, end, measured: r >= 0 });
      await turn();
    }
  }
  await turn(); // the GC observer's last entries
  const perOp = (ms) => (ms * 1e6) / batch;
  const sides = { raw: { ns: [], gcIn: [], gcAfter: [], total: 0 }, wrapped: { ns: [], gcIn: [], gcAfter: [], total: 0 } };
  batches.forEach((b, i) => {
    if (!b.measured) return;
    const next = batches[i + 1]?.start ?? performance.now();
    const side = sides[b.side];
    const gcAfter = gcBetween(b.end, next);
    side.ns.push(perOp(b.end - b.start));
    side.gcIn.push(perOp(gcBetween(b.start, b.end)));
    side.gcAfter.push(perOp(gcAfter));
    side.total += b.end - b.start + gcAfter;
  });
  const ratios = sides.wrapped.ns.map((ns, i) => ns / sides.raw.ns[i]);
  const kept = keep ? keptFigures(batches, sides, ratios) : {};
  return {
    batch,
    rounds,
    warmup,
    rawNs: summarize(sides.raw.ns),
    wrappedNs: summarize(sides.wrapped.ns),
    ratio: summarize(ratios),
    amortizedRatio: sides.wrapped.total / sides.raw.total,
    // GC pauses per op: inside the timed batches, and in the event-loop turn right after each.
    rawGcNs: { inBatch: summarize(sides.raw.gcIn), after: summarize(sides.raw.gcAfter) },
    wrappedGcNs: { inBatch: summarize(sides.wrapped.gcIn), after: summarize(sides.wrapped.gcAfter) },
    ...kept,
  };
}

/** What `interleave({ keep: true })` adds: per-round figures, the measured window, totals, turns. */
function keptFigures(batches, sides, ratios) {
  const measured = batches.filter((b) => b.measured);
  const turnsMs = [];
  batches.forEach((b, i) => {
    if (b.measured && batches[i + 1]) turnsMs.push(batches[i + 1].start - b.end);
  });
  return {
    perRound: { rawNs: sides.raw.ns, wrappedNs: sides.wrapped.ns, ratios },
    totalMs: { raw: sides.raw.total, wrapped: sides.wrapped.total },
    window: measured.length ? [measured[0].start, measured[measured.length - 1].end] : [NaN, NaN],
    turnsMs,
  };
}

/** Times `op` alone (sync or async; no raw counterpart): `rounds` runs after `warmup`, in ms each, and its last result. */
export async function timeRuns(op, { rounds, warmup }) {
  const ms = [];
  let last;
  for (let r = -warmup; r < rounds; r++) {
    minorGc();
    const start = performance.now();
    last = await op();
    const t = performance.now() - start;
    if (r >= 0) ms.push(t);
  }
  return { ms: summarize(ms), last };
}
