/**
 * Wraps one SSPI function that koffi declared: reads the facts of each call from its positional
 * arguments, lets the native call run untouched, and hands the facts to the lifecycle rules. Its
 * `.async` variant (koffi's worker-thread call) is wrapped the same way, observed in the callback.
 */
import { performance } from 'node:perf_hooks';
import { agentError } from '../diagnostics.js';
import { applyCall, mayCreateHandle, type ObservedCall } from '../lifecycle.js';
import type { HandleRegistry } from '../registry.js';
import type { SspiFunction } from '../sspi/functions.js';
import { SEC_E_OK, toStatus } from '../sspi/status.js';
import type { StackCapturer } from '../stacks.js';
import type { AllocationSite } from '../types.js';
import { readHandle, readString, type PointerReader, type ReadHandle } from './handle-shapes.js';

/** What a wrapper needs from the agent around it. */
export interface WrapperContext {
  readonly registry: HandleRegistry;
  readonly captureStack: StackCapturer;
  readonly readPointer: PointerReader;
  /** The provider library's label. */
  readonly library: string;
}

type KoffiFunction = ((...args: unknown[]) => unknown) & {
  async?: (...args: unknown[]) => unknown;
  info?: unknown;
};

/** Facts read before the native call runs: inputs it may overwrite or free. */
interface Before {
  credential: ReadHandle;
  context: ReadHandle;
  packageName: string | undefined;
  credentialUse: number | undefined;
  site: AllocationSite | undefined;
}

const wrappers = new WeakSet<Function>();

export function isWrapped(fn: unknown): boolean {
  return typeof fn === 'function' && wrappers.has(fn);
}

function readBefore(fn: SspiFunction, args: unknown[], ctx: WrapperContext, skipAbove: Function): Before {
  const context = fn.contextArg === undefined ? undefined : readHandle(args[fn.contextArg], ctx.readPointer);
  const use = fn.credentialUseArg === undefined ? undefined : args[fn.credentialUseArg];
  return {
    credential: fn.credentialArg === undefined ? undefined : readHandle(args[fn.credentialArg], ctx.readPointer),
    context,
    packageName: fn.packageArg === undefined ? undefined : readString(args[fn.packageArg], fn.wide),
    credentialUse: typeof use === 'number' ? use : typeof use === 'bigint' ? Number(use) : undefined,
    site: mayCreateHandle(fn, context) ? ctx.captureStack(skipAbove) : undefined,
  };
}

function observe(fn: SspiFunction, ctx: WrapperContext, args: unknown[], before: Before, result: unknown, seconds: number): void {
  const call: ObservedCall = {
    fn,
    library: ctx.library,
    // A function declared with a void result tells nothing: it is taken as succeeded.
    status: toStatus(result) ?? SEC_E_OK,
    durationSeconds: seconds,
    packageName: before.packageName,
    credentialUse: before.credentialUse,
    credential: before.credential,
    context: before.context,
    site: before.site,
    outHandle: fn.outHandleArg === undefined ? undefined : readHandle(args[fn.outHandleArg], ctx.readPointer),
  };
  applyCall(ctx.registry, call);
}

export function wrapSspiFunction(original: KoffiFunction, fn: SspiFunction, ctx: WrapperContext): KoffiFunction {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    let before: Before | undefined;
    try {
      before = readBefore(fn, args, ctx, wrapped);
    } catch (err) {
      agentError('hook.before', err);
    }
    const start = performance.now();
    const result = original.apply(this, args);
    const seconds = (performance.now() - start) / 1000;
    if (before) {
      try {
        observe(fn, ctx, args, before, result, seconds);
      } catch (err) {
        agentError('hook.after', err);
      }
    }
    return result;
  } as KoffiFunction;

  Object.defineProperty(wrapped, 'name', { value: original.name, configurable: true });
  if ('info' in original) Object.defineProperty(wrapped, 'info', { value: original.info, enumerable: true, configurable: true, writable: true });
  if (typeof original.async === 'function') {
    Object.defineProperty(wrapped, 'async', {
      value: wrapAsync(original.async.bind(original), fn, ctx),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  wrappers.add(wrapped);
  return wrapped;
}

/** `fn.async(...args, callback)`: the callback sees the native result once the worker thread is done. */
function wrapAsync(originalAsync: (...args: unknown[]) => unknown, fn: SspiFunction, ctx: WrapperContext) {
  const wrappedAsync = function (this: unknown, ...args: unknown[]): unknown {
    const callback = args[args.length - 1];
    if (typeof callback !== 'function') return originalAsync(...args);
    let before: Before | undefined;
    try {
      before = readBefore(fn, args.slice(0, -1), ctx, wrappedAsync);
    } catch (err) {
      agentError('hook.before', err);
    }
    const start = performance.now();
    args[args.length - 1] = function (this: unknown, err: unknown, result: unknown) {
      if (before && !err) {
        try {
          observe(fn, ctx, args, before, result, (performance.now() - start) / 1000);
        } catch (e) {
          agentError('hook.after', e);
        }
      }
      return (callback as Function).apply(this, arguments);
    };
    return originalAsync(...args);
  };
  wrappers.add(wrappedAsync);
  return wrappedAsync;
}
