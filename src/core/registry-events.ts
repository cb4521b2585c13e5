/**
 * The registry's listeners and the events it tells them: each event's handlers bound once per
 * subscription, called in subscription order, a listener's exception counted as an agent error and
 * the next listener still called; and what the listeners declared they need of a call's caller.
 */
import { agentError } from '../diagnostics.js';
import type { NegotiatedLabel } from '../sspi/negotiation-tokens.js';
import type { CallDetails, CallerCapture, CallerFacts, ForcedRelease, InvalidRelease, LeakReason, RegistryListener, TrackedHandle } from '../types.js';

export type ListenerEvent = Exclude<keyof RegistryListener, 'captures'>;
type Handler = (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => void;
type Handlers = Record<ListenerEvent, Handler[]>;

const LISTENER_EVENTS: readonly ListenerEvent[] = [
  'onOpen',
  'onClose',
  'onInvalidRelease',
  'onLeak',
  'onStaleReleased',
  'onOutOfOrderRelease',
  'onForcedRelease',
  'onUnloadWithLiveHandles',
  'onNegotiated',
  'onCall',
];

/** Every event's handlers, in subscription order, bound to their listener. */
function bindHandlers(listeners: readonly RegistryListener[]): Handlers {
  const handlers = {} as Record<keyof Handlers, Function[]>;
  for (const event of LISTENER_EVENTS) {
    handlers[event] = [];
    for (const listener of listeners) {
      const method = listener[event] as unknown;
      if (typeof method === 'function') handlers[event].push(method.bind(listener));
    }
  }
  return handlers as unknown as Handlers;
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

  // The per-call events name their handler list directly: a keyed lookup by event name is not free.
  open(handle: TrackedHandle, holder: object | undefined, caller: CallerFacts | undefined): void {
    dispatch(this.handlers.onOpen, 'onOpen', handle, holder, caller);
  }

  close(handle: TrackedHandle, lifetimeSeconds: number): void {
    dispatch(this.handlers.onClose, 'onClose', handle, lifetimeSeconds);
  }

  call(fn: string, status: number, durationSeconds: number, details: CallDetails | undefined, caller: CallerFacts | undefined): void {
    dispatch(this.handlers.onCall, 'onCall', fn, status, durationSeconds, details, caller);
  }

  /** Fixed arity rather than rest arguments: no allocation per event. */
  emit(event: 'onClose' | 'onStaleReleased', handle: TrackedHandle, lifetimeSeconds: number): void;
  emit(event: 'onInvalidRelease', detail: InvalidRelease): void;
  emit(event: 'onLeak', handle: TrackedHandle, reason: LeakReason): void;
  emit(event: 'onOutOfOrderRelease', credential: TrackedHandle, contexts: TrackedHandle[], caller: CallerFacts | undefined): void;
  emit(event: 'onForcedRelease', detail: ForcedRelease): void;
  emit(event: 'onUnloadWithLiveHandles', library: string, live: readonly TrackedHandle[]): void;
  emit(event: 'onNegotiated', handle: TrackedHandle, negotiated: NegotiatedLabel): void;
  emit(event: ListenerEvent, a: unknown, b?: unknown, c?: unknown, d?: unknown): void {
    dispatch(this.handlers[event], event, a, b, c, d);
  }

  /**
   * The caller's moment of a call that returned at `at`, when a listener's capture wants something of
   * it; undefined otherwise (the common case with no SDK: one check, nothing allocated). The first
   * capture that returns a context supplies it: one listener captures (the OpenTelemetry side).
   */
  captureCaller(at: number): CallerFacts | undefined {
    const captures = this.captures;
    for (let i = 0; i < captures.length; i++) {
      try {
        const context = captures[i]!.context();
        if (context !== undefined) return { context, at };
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

function dispatch(handlers: readonly Handler[], event: ListenerEvent, a: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): void {
  for (let i = 0; i < handlers.length; i++) {
    try {
      handlers[i]!(a, b, c, d, e);
    } catch (err) {
      agentError(`listener.${event}`, err);
    }
  }
}
