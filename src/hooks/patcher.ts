/**
 * What every hook does to the objects it instruments: replace a property's value with a wrapper and
 * remember how to put it back. One patcher per hook. `suspend` puts every patch back and `resume`
 * applies the same wrappers again, so a disabled instrumentation leaves the app's objects as they
 * were, and an enabled one tracks again through the very functions the app declared before. The
 * wrappers the app holds (a declared function, a `load` an ES namespace captured) check
 * `state.enabled` and pass straight through while suspended.
 */
import { agentError } from '../diagnostics.js';

/** One replaced property, and what stood there before it while the patch is applied. */
interface Patch {
  readonly target: object;
  readonly key: PropertyKey;
  readonly value: Function;
  readonly enumerableIfNew: boolean;
  /** Whether the wrapper stands there now. */
  applied: boolean;
  /** What to put back: the property as it was when the patch was applied (undefined: there was none). */
  previous?: PropertyDescriptor | undefined;
}

export class Patcher {
  private patches: Patch[] = [];
  private stopped = false;
  /** Off while suspended, and for good once stopped. */
  readonly state = { enabled: true };

  /** `where`: what an error while patching is counted as (`<where>.patch`, `<where>.unpatch`). */
  constructor(private readonly where: string) {}

  /**
   * Replaces the value only: the property's enumerability stays as it was (`Object.keys` does not
   * change), and a property added where there was none gets `enumerableIfNew`. While suspended the
   * patch waits for `resume`: an object met while disabled is instrumented once enabled again.
   */
  replace(target: object, key: PropertyKey, value: Function, enumerableIfNew: boolean): void {
    if (this.stopped) return;
    const patch: Patch = { target, key, value, enumerableIfNew, applied: false };
    this.patches.push(patch);
    if (this.state.enabled) apply(patch);
  }

  /** Puts every patch back, newest first; the wrappers still held pass through until `resume`. */
  suspend(): void {
    if (!this.state.enabled) return;
    this.state.enabled = false;
    for (const patch of [...this.patches].reverse()) this.guarded('unpatch', () => restore(patch));
  }

  /** Applies every patch again, oldest first, over what stands there now. */
  resume(): void {
    if (this.state.enabled || this.stopped) return;
    this.state.enabled = true;
    for (const patch of this.patches) this.guarded('patch', () => apply(patch));
  }

  /** Puts every patch back for good (the agent stops). */
  unpatchAll(): void {
    this.suspend();
    this.stopped = true;
    this.patches = [];
  }

  private guarded(what: 'patch' | 'unpatch', fn: () => void): void {
    try {
      fn();
    } catch (err) {
      agentError(`${this.where}.${what}`, err);
    }
  }
}

function apply(patch: Patch): void {
  const { target, key, value, enumerableIfNew } = patch;
  const previous = Object.getOwnPropertyDescriptor(target, key);
  Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: previous?.enumerable ?? enumerableIfNew });
  patch.previous = previous;
  patch.applied = true;
}

function restore(patch: Patch): void {
  if (!patch.applied) return;
  patch.applied = false;
  const { target, key, previous } = patch;
  if (previous) Object.defineProperty(target, key, previous);
  else delete (target as Record<PropertyKey, unknown>)[key];
}

/** What the agent switches on every hook: its patches, all together. */
export abstract class PatchingHook {
  protected readonly patcher: Patcher;
  /** Off while suspended or stopped: the wrappers the app holds pass straight through, nothing reaches the registry. */
  protected readonly state: { readonly enabled: boolean };

  constructor(where: string) {
    this.patcher = new Patcher(where);
    this.state = this.patcher.state;
  }

  /** Puts every patched property back; the wrappers the app holds pass through. */
  suspend(): void {
    this.patcher.suspend();
  }

  /** Patches again what `suspend` put back: the functions the app declared before are tracked again. */
  resume(): void {
    this.patcher.resume();
  }

  /** Puts every patched property back for good. */
  unpatchAll(): void {
    this.patcher.unpatchAll();
  }
}
