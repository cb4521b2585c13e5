/**
 * Wraps one SSPI function that koffi declared: each call's facts are read from its positional
 * arguments (call-observer.ts), a call on an already released handle is stopped (the guard), every
 * other call runs untouched, and the facts go to the lifecycle rules. Its `.async` variant (koffi's
 * worker-thread call) is wrapped the same way, observed in the callback.
 */
import * as clock from '../core/clock.js';
import { agentError } from '../diagnostics.js';
import { onDemand } from '../on-demand.js';
import type { SspiFunction } from '../sspi/functions.js';
import { SEC_E_INVALID_HANDLE } from '../sspi/status.js';
import { CallFacts } from './call-facts.js';
import type * as CallObserverModule from './call-observer.js';

import type { WrapperContext } from './call-observer.js';

export type { WrapperContext };

/** What a call does around the native call, loaded at the first call. */
const calls = onDemand<typeof CallObserverModule>('./hooks/call-observer.js');

type KoffiFunction = ((...args: unknown[]) => unknown) & {
  async?: (...args: unknown[]) => unknown;
  info?: { result?: { primitive?: string }; arguments?: Array<{ direction?: string } | undefined> };
};

/** Whether the app declared the handle out-param `_Out_` (koffi 3 says so in `info`; else unknown, taken as not). */
function declaredOutOnly(original: KoffiFunction, fn: SspiFunction): boolean {
  try {
    return fn.outHandleArg !== undefined && original.info?.arguments?.[fn.outHandleArg]?.direction === 'Output';
  } catch {
    return false;
  }
}

const wrappers = new WeakSet<Function>();

export function isWrapped(fn: unknown): boolean {
  return typeof fn === 'function' && wrappers.has(fn);
}

/** SEC_E_INVALID_HANDLE as the app declared the result: signed, or unsigned for a `uint32` declaration. */
function invalidHandleResult(original: KoffiFunction): number {
  return original.info?.result?.primitive === 'UInt32' ? SEC_E_INVALID_HANDLE >>> 0 : SEC_E_INVALID_HANDLE;
}

export function wrapSspiFunction(original: KoffiFunction, fn: SspiFunction, ctx: WrapperContext): KoffiFunction {
  const outOnly = declaredOutOnly(original, fn);
  const scratch = new CallFacts();
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    if (!ctx.state.enabled) return original.apply(this, args);
    const facts = scratch.busy ? new CallFacts() : scratch;
    try {
      return track(facts, this, args);
    } finally {
      facts.end();
    }
  } as KoffiFunction;
  const track = (facts: CallFacts, self: unknown, args: unknown[]): unknown => {
    let before: CallFacts | undefined;
    try {
      before = calls().readBefore(facts, fn, args, ctx, wrapped);
    } catch (err) {
      agentError('hook.before', err);
    }
    if (before?.blocked) return invalidHandleResult(original);
    const start = clock.now();
    const result = original.apply(self, args);
    const end = clock.now();
    if (before) {
      try {
        calls().observe(fn, ctx, args, before, result, start, end, outOnly, wrapped);
      } catch (err) {
        agentError('hook.after', err);
      }
    }
    return result;
  };

  Object.defineProperty(wrapped, 'name', { value: original.name, configurable: true });
  if ('info' in original) Object.defineProperty(wrapped, 'info', { value: original.info, enumerable: true, configurable: true, writable: true });
  if (typeof original.async === 'function') {
    Object.defineProperty(wrapped, 'async', {
      value: wrapAsync(original, fn, ctx, outOnly),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  wrappers.add(wrapped);
  return wrapped;
}

/** `fn.async(...args, callback)`: the callback sees the native result once the worker thread is done. */
function wrapAsync(original: KoffiFunction, fn: SspiFunction, ctx: WrapperContext, outOnly: boolean) {
  const originalAsync = original.async!;
  const wrappedAsync = function (this: unknown, ...args: unknown[]): unknown {
    const callback = args[args.length - 1];
    if (typeof callback !== 'function' || !ctx.state.enabled) return originalAsync.apply(original, args);
    let before: CallFacts | undefined;
    try {
      before = calls().readBefore(new CallFacts(), fn, args.slice(0, -1), ctx, wrappedAsync, clock.now());
    } catch (err) {
      agentError('hook.before', err);
    }
    if (before?.blocked) {
      const status = invalidHandleResult(original);
      setImmediate(() => (callback as Function)(null, status));
      return undefined;
    }
    const start = clock.now();
    if (before) {
      before.issuedAt = start;
      before.issuedCaller = ctx.registry.captureCaller(start);
    }
    args[args.length - 1] = function (this: unknown, err: unknown, result: unknown) {
      if (before && !err) {
        try {
          calls().observe(fn, ctx, args, before, result, start, clock.now(), outOnly);
        } catch (e) {
          agentError('hook.after', e);
        }
      }
      return (callback as Function).apply(this, arguments);
    };
    return originalAsync.apply(original, args);
  };
  Object.defineProperty(wrappedAsync, 'name', { value: originalAsync.name, configurable: true });
  wrappers.add(wrappedAsync);
  return wrappedAsync;
}
