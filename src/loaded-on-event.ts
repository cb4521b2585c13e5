/**
 * A part of the agent loaded at the first registry event that wants it (the Prometheus side, the
 * OpenTelemetry side; see on-demand.ts). Until then a stand-in listener hears every event; the first
 * one `open()` lets through loads the part, which is handed that event (its own listener is not among
 * the registry's while the event is dispatched: the registry dispatches over the handlers it had),
 * and the stand-in steps aside. Whatever else needs the part loads it with `load()`, after what waits
 * in the registry has been heard.
 */
import type { HandleRegistry } from './core/registry.js';
import { REGISTRY_EVENT_NAMES, type Handler, type RegistryEvent, type RegistryListener } from './core/registry-events.js';
import type { CallerCapture } from './types.js';

export interface LoadedOnEventOptions<T> {
  /** Makes the part (it subscribes its own listener). */
  readonly make: () => T;
  /** The part's listener, handed the event that loaded it. */
  readonly listenerOf: (part: T) => RegistryListener | undefined;
  /** Asked at each event while the part waits: whether that event wants it (by default every one does). */
  readonly open?: () => boolean;
  /** What the stand-in declares meanwhile: the capture the part's listener would declare. */
  readonly captures?: CallerCapture;
}

export class LoadedOnEvent<T> {
  private part: T | undefined;
  private stopWaiting: (() => void) | undefined;

  /** `wait`: listen for the first event now (otherwise only `load()` loads the part). */
  constructor(
    private readonly registry: HandleRegistry,
    private readonly options: LoadedOnEventOptions<T>,
    wait = true,
  ) {
    if (wait) this.stopWaiting = registry.subscribe(this.standIn());
  }

  /** The part, if loaded. */
  get loaded(): T | undefined {
    return this.part;
  }

  load(): T {
    if (this.part) return this.part;
    // What waits in the registry is heard first: by the stand-in, which loads the part at the first
    // event (a re-entrant settle, from inside an event, applies nothing).
    this.registry.settled();
    if (this.part) return this.part;
    this.part = this.options.make();
    this.stopWaitingNow();
    return this.part;
  }

  /** The stand-in stops listening (the part, if loaded, is its owner's to stop). */
  stopWaitingNow(): void {
    this.stopWaiting?.();
    this.stopWaiting = undefined;
  }

  private standIn(): RegistryListener {
    const listener: Record<string, unknown> = this.options.captures ? { captures: this.options.captures } : {};
    for (const event of REGISTRY_EVENT_NAMES) listener[event] = this.forward(event);
    return listener as RegistryListener;
  }

  private forward(event: RegistryEvent): Handler {
    const open = this.options.open;
    return (a, b, c, d, e) => {
      if (open && !open()) return;
      const listener = this.options.listenerOf(this.load());
      (listener?.[event] as Handler | undefined)?.call(listener, a, b, c, d, e);
    };
  }
}
