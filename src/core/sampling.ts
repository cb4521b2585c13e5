/**
 * Which calls of each SSPI function get an expensive observation (an allocation stack, a watch on
 * the JS object holding the handle): the first `SAMPLE_FIRST` calls of each function, then one in
 * `SAMPLE_EVERY`. A call site that keeps leaking is therefore always seen, at a fraction of the cost.
 */

/** In `sampled` mode: how many calls of each function are always observed, then one in how many. */
export const SAMPLE_FIRST = 16;
export const SAMPLE_EVERY = 64;

export type SampleMode = 'all' | 'sampled' | 'off';

/** `(fn) => whether this call of fn is observed`, counting calls per function name. */
export function sampler(mode: SampleMode): (fn: string) => boolean {
  if (mode === 'all') return () => true;
  if (mode === 'off') return () => false;
  const seen = new Map<string, { n: number }>();
  // Calls of one function come in runs (a loop of acquires): the last one's count is at hand.
  let lastFn: string | undefined;
  let last = { n: 0 };
  return (fn) => {
    if (fn !== lastFn) {
      let count = seen.get(fn);
      if (count === undefined) seen.set(fn, (count = { n: 0 }));
      lastFn = fn;
      last = count;
    }
    const n = ++last.n;
    return n <= SAMPLE_FIRST || n % SAMPLE_EVERY === 0;
  };
}
