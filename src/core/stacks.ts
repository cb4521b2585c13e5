/**
 * When to pay for an allocation stack, and where a report reads a stack's site. Capturing a stack
 * costs about 3–14 µs (more than an SSPI acquire+free), formatting it more; both live in
 * captured-site.ts.
 */
import * as clock from './clock.js';
import { captureSite } from './captured-site.js';
import { sampler, type SampleMode } from './sampling.js';
import { StackBudget } from './stack-budget.js';
import type { AllocationSite } from '../types.js';

export { KeyTrie, formatSites } from './captured-site.js';
export { SAMPLE_EVERY, SAMPLE_FIRST } from './sampling.js';

export type StackMode = 'budget' | SampleMode;

/**
 * Which calls get a stack. `budget` (the default): every creation and every release while capture
 * stays within its CPU budget (see StackBudget), so that an app creating handles at any human rate
 * has every leak located, however late and wherever it happens; beyond the budget, as many as it
 * allows, creations first: a release may spend only while half the budget is left, since its stack
 * serves a double-free report only, which the guard's own stack of the second release already
 * locates. `all`: every call; `sampled`: the first `SAMPLE_FIRST` calls of each creating or
 * releasing function and one in `SAMPLE_EVERY` after; `off`: none. A call the guard stops always
 * gets one: that path is rare and its warning needs it.
 *
 * `now` is a `performance.now()` the caller read at about the time of the call: the budget's clock.
 */
export interface StackPolicy {
  readonly mode: StackMode;
  forCreation(fn: string, skipAbove: Function, now: number): AllocationSite | undefined;
  forRelease(fn: string, skipAbove: Function, now: number): AllocationSite | undefined;
  always(skipAbove: Function): AllocationSite | undefined;
}

/** What a release leaves of the budget for creations: their stacks locate leaks. */
const RELEASE_RESERVE = 0.5;

/** Shared, never written: the frames of a site with none. */
const NO_FRAMES: string[] = [];

/**
 * The site of a handle whose stack the budget turned down: it has no frames, and reports count such
 * handles apart, saying how to get their stacks.
 */
export const OVER_BUDGET: AllocationSite = Object.freeze({ frames: () => NO_FRAMES });

export function stackPolicy(mode: StackMode, depth: number, budgetShare = 0.01): StackPolicy {
  const always = (skipAbove: Function) => captureSite(depth, skipAbove);
  if (mode === 'budget') return { mode, ...budgeted(depth, budgetShare), always };
  const take = sampler(mode);
  const sampled = (fn: string, skipAbove: Function) => (take(fn) ? captureSite(depth, skipAbove) : undefined);
  return { mode, forCreation: sampled, forRelease: sampled, always };
}

function budgeted(depth: number, share: number): Pick<StackPolicy, 'forCreation' | 'forRelease'> {
  const budget = new StackBudget(share);
  const take = (skipAbove: Function, now: number, reserve: number) => {
    if (!budget.allows(now, reserve)) return OVER_BUDGET;
    // Timed on its own: the agent's other work since the caller read its clock is not stack capture.
    const start = clock.now();
    const site = captureSite(depth, skipAbove);
    budget.charge(clock.now() - start);
    return site;
  };
  return {
    forCreation: (_fn, skipAbove, now) => take(skipAbove, now, 0),
    forRelease: (_fn, skipAbove, now) => take(skipAbove, now, RELEASE_RESERVE),
  };
}

/** `file:line` of the first app frame, the site key reports group by. */
export function siteLocation(site: AllocationSite | undefined): string {
  return frameLocation(site?.frames() ?? []);
}

/** `file:line:col` of the first of `frames`, or `(no stack)`. */
export function frameLocation(frames: readonly string[]): string {
  const top = frames[0];
  if (!top) return '(no stack)';
  const m = /\(([^()]+)\)$/.exec(top) ?? /^at (.+)$/.exec(top);
  return m ? m[1]! : top;
}
