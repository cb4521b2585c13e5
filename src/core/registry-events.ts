/**
 * The registry's events and its listeners. Each event is declared once, in `REGISTRY_EVENTS`, with its
 * payload as a typed tuple: the listener interface, the emitter, the catalog's routing and the
 * OpenTelemetry gate are derived from it. Each event's handlers are bound once per subscription and
 * called in subscription order; a listener's exception is counted as an agent error and the next
 * listener is still called.
 */
import { agentError } from '../diagnostics.js';
import { callerAt } from './observed-call.js';
import type { NegotiatedLabel } from '../sspi/negotiation-tokens.js';
import type { CallDetails, CallerCapture, CallerFacts, ForcedRelease, HandleKind, InvalidRelease, LeakReason, TrackedHandle } from '../types.js';

/** Declares an event's payload: the parameters of its handlers (a type only; nothing is stored). */
const payload = <Args extends readonly unknown[]>(): Args => undefined as unknown as Args;

/**
 * The registry's events, in the order they happen. The events of a call are heard when the registry
 * applies it: in a batch, before anything next reads the registry or at the next event-loop turn at
 * the latest (see `HandleRegistry.log`). The events of a call whose caller was captured (see
 * `RegistryListener.captures`) carry its `CallerFacts`.
 */
export const REGISTRY_EVENTS = {
  /**
   * A handle was made. `holder` is the JS object holding it, if any: watch it, never keep it.
   * `caller`: the creating call's, when it was captured (the same object its `onCall` got).
   */
  onOpen: payload<[handle: TrackedHandle, holder: object | undefined, caller?: CallerFacts]>(),
  /** A handle was released; `lifetimeSeconds` from creation to release. */
  onClose: payload<[handle: TrackedHandle, lifetimeSeconds: number]>(),
  /** A release or use the guard stopped, or a release the provider refused. */
  onInvalidRelease: payload<[event: InvalidRelease]>(),
  onLeak: payload<[handle: TrackedHandle, reason: LeakReason]>(),
  /** A stale handle was released after all: a slow but correct caller, not a leak. */
  onStaleReleased: payload<[handle: TrackedHandle, lifetimeSeconds: number]>(),
  /** A credential was freed while contexts made from it were live; `caller`: the freeing call's, when captured. */
  onOutOfOrderRelease: payload<[credential: TrackedHandle, liveContexts: readonly TrackedHandle[], caller?: CallerFacts]>(),
  onForcedRelease: payload<[event: ForcedRelease]>(),
  /** A provider library was unloaded while handles it made were live. */
  onUnloadWithLiveHandles: payload<[library: string, live: readonly TrackedHandle[]]>(),
  /**
   * A Negotiate context's package is settled, once per context: by a token that names it, when its
   * handshake ends, or when it is deleted (`unknown` when no token named one).
   */
  onNegotiated: payload<[context: TrackedHandle, negotiated: NegotiatedLabel]>(),
  /**
   * Every wrapped SSPI call, with its SECURITY_STATUS as a signed 32-bit number. `caller` is there
   * when the call's caller was captured; `details` too, for a function a listener's capture names.
   */
  onCall: payload<[fn: string, status: number, durationSeconds: number, details?: CallDetails, caller?: CallerFacts]>(),
  // The batch events: told once per batch after its calls' own events, so that a metric is bumped
  // once per label set. Their arrays are the registry's: read them, never keep them.
  /** A batch's calls of one function that returned one status: their count and durations, in call order. */
  onCalls: payload<[fn: string, status: number, count: number, durations: readonly number[]]>(),
  /** A batch's handles made of one kind and package (`onOpen`s). */
  onOpens: payload<[kind: HandleKind, pkg: string, count: number]>(),
  /** A batch's handles released of one kind and package (`onClose`s): their count and lifetimes in seconds. */
  onCloses: payload<[kind: HandleKind, pkg: string, count: number, lifetimes: readonly number[]]>(),
};

export type RegistryEventMap = { readonly [E in keyof typeof REGISTRY_EVENTS]: (typeof REGISTRY_EVENTS)[E] };
export type RegistryEvent = keyof RegistryEventMap;
export const REGISTRY_EVENT_NAMES = Object.keys(REGISTRY_EVENTS) as RegistryEvent[];

/** A registry listener: a handler for any of the events, and what it needs of each call's caller. */
export type RegistryListener = {
  /**
   * Read once, at subscribe: what the listener's handlers need of each call's caller. Nothing is
   * asked of the listener per call; the capture runs as the hook hands the call over, and the call
   * carries its result. One listener per registry captures (the OpenTelemetry side): the first
   * capture that returns a context supplies every listener's facts, and the details go to all.
   */
  readonly captures?: CallerCapture;
} & { [E in RegistryEvent]?: (...args: RegistryEventMap[E]) => void };

/** Fixed arity rather than rest arguments: the per-call events should not allocate. */
export type Handler = (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => void;
/**
 * A Map, not an object keyed by event name: `emit` reads it with every event's name, and an object
 * read by a name that varies is a megamorphic keyed load, about twice the instructions of a Map's.
 */
type Handlers = ReadonlyMap<RegistryEvent, readonly Handler[]>;

/** Every event's handlers, in subscription order, bound to their listener. */
function bindHandlers(listeners: readonly RegistryListener[]): Handlers {
  const handlers = new Map<RegistryEvent, Handler[]>();
  for (const event of REGISTRY_EVENT_NAMES) {
    const bound: Handler[] = [];
    for (const listener of listeners) {
      const method = listener[event] as unknown;
      if (typeof method === 'function') bound.push(method.bind(listener) as Handler);
    }
    handlers.set(event, bound);
  }
  return handlers;
}

/**
 * One listener that passes each event to `inner`'s handlers, in order, only while `open()` says so
 * (asked once per event); `captures`: the capture it declares, if any (the inner ones' are not read).
 */
export function gatedListener(open: () => boolean, inner: readonly RegistryListener[], captures?: CallerCapture): RegistryListener {
  const gate: Record<string, unknown> = captures ? { captures } : {};
  const handlers = bindHandlers(inner);
  for (const event of REGISTRY_EVENT_NAMES) {
    const own = handlers.get(event)!;
    if (own.length === 0) continue;
    gate[event] = (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => {
      if (!open()) return;
      for (let i = 0; i < own.length; i++) own[i]!(a, b, c, d, e);
    };
  }
  return gate as RegistryListener;
}

export class RegistryEvents {
  private readonly listeners: RegistryListener[] = [];
  /**
   * Each event's handlers, bound once per subscription. Dispatching through `listener[event]` on
   * every SSPI call was a megamorphic keyed load and call per listener (several listener classes,
   * ten event names): in a handshake it cost more than the registry's own bookkeeping.
   */
  private handlers = bindHandlers([]);
  /** The listeners' captures, and the union of the functions they want details of. */
  private captures: readonly CallerCapture[] = [];
  private detailed: ReadonlySet<string> = new Set();

  add(listener: RegistryListener): void {
    this.listeners.push(listener);
    this.bind();
  }

  remove(listener: RegistryListener): void {
    const i = this.listeners.indexOf(listener);
    if (i < 0) return;
    this.listeners.splice(i, 1);
    this.bind();
  }

  private bind(): void {
    this.handlers = bindHandlers(this.listeners);
    this.captures = this.listeners.flatMap((l) => (l.captures ? [l.captures] : []));
    this.detailed = new Set(this.captures.flatMap((c) => [...c.details]));
  }

  has(listener: RegistryListener): boolean {
    return this.listeners.includes(listener);
  }

  /** Tells every listener of `event`; typed by the event's payload, with fixed arity underneath (no allocation). */
  emit<E extends RegistryEvent>(event: E, ...payload: RegistryEventMap[E]): void;
  emit(event: RegistryEvent, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): void {
    dispatch(this.handlers.get(event)!, event, a, b, c, d, e);
  }

  /**
   * The caller's moment of a call that returned at `at`, when a listener's capture wants something of
   * it; undefined otherwise (the common case with no SDK: one check, nothing allocated). The first
   * capture that returns a context supplies it: one listener captures (the OpenTelemetry side).
   */
  captureCaller(at: number): CallerFacts | undefined {
    return callerAt(this.captureContext(), at);
  }

  /** The caller's context alone, as `captureCaller` takes it: nothing allocated. */
  captureContext(): unknown {
    const captures = this.captures;
    for (let i = 0; i < captures.length; i++) {
      try {
        const context = captures[i]!.context();
        if (context !== undefined) return context;
      } catch (err) {
        agentError('listener.captures', err);
      }
    }
    return undefined;
  }

  /** Whether a captured call of `fn` comes with its details (a listener's capture names it). */
  wantsDetails(fn: string): boolean {
    return this.detailed.has(fn);
  }
}

function dispatch(handlers: readonly Handler[], event: RegistryEvent, a: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): void {
  for (let i = 0; i < handlers.length; i++) {
    try {
      handlers[i]!(a, b, c, d, e);
    } catch (err) {
      agentError(`listener.${event}`, err);
    }
  }
}
