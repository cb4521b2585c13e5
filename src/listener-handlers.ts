/**
 * The registry's listeners as lists of bound handlers, one list per event: the registry calls a
 * list directly on every SSPI call, where dispatching through `listener[event]` would be a
 * megamorphic keyed load and call per listener (several listener classes, ten event names).
 */
import type { RegistryListener } from './types.js';

export type ListenerEvent = Exclude<keyof RegistryListener, 'wantsCallDetails' | 'wantsCallsNow'>;
export type Handler = (a: unknown, b: unknown, c: unknown, d: unknown) => void;
export type Handlers = Record<ListenerEvent, Handler[]> & { wantsCallDetails: ((fn: string) => boolean)[]; wantsCallsNow: (() => boolean)[] };

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
export function bindHandlers(listeners: readonly RegistryListener[]): Handlers {
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
