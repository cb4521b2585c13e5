/**
 * The registry's listeners and the events it tells them: each event's handlers bound once per
 * subscription, called in subscription order, a listener's exception counted as an agent error and
 * the next listener still called.
 */
import { agentError } from '../diagnostics.js';
import type { NegotiatedLabel } from '../sspi/negotiation-tokens.js';
import type { CallDetails, ForcedRelease, InvalidRelease, LeakReason, RegistryListener, TrackedHandle } from '../types.js';

export type ListenerEvent = Exclude<keyof RegistryListener, 'wantsCallDetails' | 'wantsCallsNow'>;
type Handler = (a: unknown, b: unknown, c: unknown, d: unknown) => void;
type Handlers = Record<ListenerEvent, Handler[]> & { wantsCallDetails: ((fn: string) => boolean)[]; wantsCallsNow: (() => boolean)[] };

const LISTENER_EVENTS: readonly (keyof Handlers)[] = [
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
  'wantsCallDetails',
  'wantsCallsNow',
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

  add(listener: RegistryListener): void {
    this.listeners.push(listener);
    this.handlers = bindHandlers(this.listeners);
  }

  remove(listener: RegistryListener): void {
    const i = this.listeners.indexOf(listener);
    if (i < 0) return;
    this.listeners.splice(i, 1);
    this.handlers = bindHandlers(this.listeners);
  }

  has(listener: RegistryListener): boolean {
    return this.listeners.includes(listener);
  }

  // The per-call events name their handler list directly: a keyed lookup by event name is not free.
  open(handle: TrackedHandle, holder: object | undefined): void {
    dispatch(this.handlers.onOpen, 'onOpen', handle, holder);
  }

  close(handle: TrackedHandle, lifetimeSeconds: number): void {
    dispatch(this.handlers.onClose, 'onClose', handle, lifetimeSeconds);
  }

  call(fn: string, status: number, durationSeconds: number, details: CallDetails | undefined): void {
    dispatch(this.handlers.onCall, 'onCall', fn, status, durationSeconds, details);
  }

  /** Fixed arity rather than rest arguments: no allocation per event. */
  emit(event: 'onClose' | 'onStaleReleased', handle: TrackedHandle, lifetimeSeconds: number): void;
  emit(event: 'onInvalidRelease', detail: InvalidRelease): void;
  emit(event: 'onLeak', handle: TrackedHandle, reason: LeakReason): void;
  emit(event: 'onOutOfOrderRelease', credential: TrackedHandle, contexts: TrackedHandle[]): void;
  emit(event: 'onForcedRelease', detail: ForcedRelease): void;
  emit(event: 'onUnloadWithLiveHandles', library: string, live: readonly TrackedHandle[]): void;
  emit(event: 'onNegotiated', handle: TrackedHandle, negotiated: NegotiatedLabel): void;
  emit(event: ListenerEvent, a: unknown, b?: unknown, c?: unknown, d?: unknown): void {
    dispatch(this.handlers[event], event, a, b, c, d);
  }

  /**
   * Whether a call of `fn` must be applied as it returns, not deferred: a listener wants its details
   * or reads the caller's context (spans parented or linked to the app's active span).
   */
  appliesNow(fn: string): boolean {
    if (this.wantsCallDetails(fn)) return true;
    const asks = this.handlers.wantsCallsNow;
    for (let i = 0; i < asks.length; i++) {
      try {
        if (asks[i]!()) return true;
      } catch (err) {
        agentError('listener.wantsCallsNow', err);
      }
    }
    return false;
  }

  /** Whether a listener wants the details of a call of `fn`: the hook builds them only then. */
  wantsCallDetails(fn: string): boolean {
    const asks = this.handlers.wantsCallDetails;
    for (let i = 0; i < asks.length; i++) {
      try {
        if (asks[i]!(fn)) return true;
      } catch (err) {
        agentError('listener.wantsCallDetails', err);
      }
    }
    return false;
  }
}

function dispatch(handlers: readonly Handler[], event: ListenerEvent, a: unknown, b?: unknown, c?: unknown, d?: unknown): void {
  for (let i = 0; i < handlers.length; i++) {
    try {
      handlers[i]!(a, b, c, d);
    } catch (err) {
      agentError(`listener.${event}`, err);
    }
  }
}
