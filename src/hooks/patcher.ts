/**
 * What every hook does to the objects it instruments: replace a property's value with a wrapper and
 * remember how to put it back. One patcher per hook; each patch has an owner — the module it was made
 * for, which its libraries' patches share — so that `unpatch(owner)` undoes one module's patches (an
 * instrumentation's per-module unpatch), and `unpatchAll` every patch, newest first. A wrapper the app
 * still holds after `unpatchAll` (a declared function, a `load` an ES namespace captured) checks
 * `state.enabled` and passes straight through.
 */
import { agentError } from '../diagnostics.js';

/** How to undo one patch: put back an own property as it was, or remove the one we added. */
interface Restore {
  readonly owner: object;
  readonly target: object;
  readonly key: PropertyKey;
  readonly descriptor: PropertyDescriptor | undefined;
}

export class Patcher {
  private restores: Restore[] = [];
  /** Off once everything is unpatched. */
  readonly state = { enabled: true };

  /** `where`: what an error while unpatching is counted as (`<where>.unpatch`). */
  constructor(private readonly where: string) {}

  /**
   * Replaces the value only: the property's enumerability stays as it was (`Object.keys` does not
   * change), and a property added where there was none gets `enumerableIfNew`.
   */
  replace(owner: object, target: object, key: PropertyKey, value: Function, enumerableIfNew: boolean): void {
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    this.restores.push({ owner, target, key, descriptor });
    Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: descriptor?.enumerable ?? enumerableIfNew });
  }

  /** Undoes the patches made for `owner`, newest first; returns the objects they were made on. */
  unpatch(owner: object): object[] {
    const mine = this.restores.filter((r) => r.owner === owner);
    this.restores = this.restores.filter((r) => r.owner !== owner);
    this.undo(mine);
    return mine.map((r) => r.target);
  }

  /** Undoes every patch, newest first; the wrappers still held pass through from now on. */
  unpatchAll(): void {
    this.state.enabled = false;
    this.undo(this.restores.splice(0));
  }

  private undo(restores: readonly Restore[]): void {
    for (const { target, key, descriptor } of [...restores].reverse()) {
      try {
        if (descriptor) Object.defineProperty(target, key, descriptor);
        else delete (target as Record<PropertyKey, unknown>)[key];
      } catch (err) {
        agentError(`${this.where}.unpatch`, err);
      }
    }
  }
}
