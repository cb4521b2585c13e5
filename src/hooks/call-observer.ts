/**
 * What each call of a wrapped SSPI function does around the native call: reads its facts from its
 * positional arguments before (and asks the guard), reads what it wrote after, and hands the facts to
 * the lifecycle rules. Loaded at the first call of a wrapped function (see on-demand.ts): a process
 * that declares its SSPI functions and never calls one does not compile it, nor the rules.
 */
import { guardCall, recordBlockedCall, recordObservedCall, isRelease, mayCreateHandle } from '../core/lifecycle.js';
import type { AllocatedBuffer, Provider } from '../core/observed-call.js';
import type { HandleRegistry } from '../core/registry.js';
import type { StackPolicy } from '../core/stacks.js';
import { ALLOCATING_ATTRIBUTES, REQ_ALLOCATE_MEMORY, type SspiFunction } from '../sspi/functions.js';
import { isSuccess, SEC_E_OK, toStatus } from '../sspi/status.js';
import type { CallFacts } from './call-facts.js';
import type { NegotiateHandles } from './negotiate-handles.js';
import { tokenVerdict } from './token-reader.js';
import { isHandleKey } from '../types.js';
import {
  bufferKey,
  readHandle,
  isOwnedShape,
  readOwnedHandle,
  readPointerOut,
  readSecBufferPointers,
  readString,
  readStructPointers,
  type NativeMemory,
  type ReadHandle,
} from './handle-shapes.js';

/** What a wrapper needs from the agent around it. */
export interface WrapperContext {
  readonly registry: HandleRegistry;
  readonly stacks: StackPolicy;
  readonly memory: NativeMemory;
  readonly provider: Provider;
  /** Stop calls on released handles (SSPI_AGENT_GUARD). */
  readonly guard: boolean;
  /** Cleared when the agent stops: wrappers the app still holds then pass straight through. */
  readonly state: { readonly enabled: boolean };
  /** This library's Negotiate handles: only calls on those have their tokens read. */
  readonly negotiate: NegotiateHandles;
}

function argHandle(args: unknown[], position: number | undefined, memory: NativeMemory): ReadHandle {
  return position === undefined ? undefined : readHandle(args[position], memory);
}

/**
 * The facts known before the call. An `.async` call's stack is taken here (`now`: the budget's
 * clock), since its callback runs on another stack; a synchronous call's after the call, once its
 * status says whether a handle was made, on the clock that timed it (see takeStack).
 */
export function readBefore(facts: CallFacts, fn: SspiFunction, args: unknown[], ctx: WrapperContext, skipAbove: Function, now?: number): CallFacts {
  const context = argHandle(args, fn.contextArg, ctx.memory);
  const use = fn.credentialUseArg === undefined ? undefined : args[fn.credentialUseArg];
  const before = facts.begin(
    fn,
    ctx.provider,
    argHandle(args, fn.credentialArg, ctx.memory),
    context,
    fn.bufferArg === undefined ? undefined : bufferKey(args[fn.bufferArg], ctx.memory),
    fn.packageArg === undefined ? undefined : readString(args[fn.packageArg], fn.wide),
    typeof use === 'number' ? use : typeof use === 'bigint' ? Number(use) : undefined,
  );
  if (context === null && (fn.role === 'init-context' || fn.role === 'accept-context') && fn.outHandleArg !== undefined) {
    const out = args[fn.outHandleArg];
    if (isOwnedShape(out)) {
      before.outRead = true;
      before.outBefore = readOwnedHandle(out, ctx.memory);
    }
  }
  const verdict = ctx.guard ? guardCall(ctx.registry, fn, before) : undefined;
  if (verdict) {
    before.blocked = true;
    recordBlockedCall(ctx.registry, fn, verdict, ctx.stacks.always(skipAbove));
  } else if (mayCreateHandle(fn, context)) {
    before.stackFor = 'creation';
  } else if (isRelease(fn)) {
    before.stackFor = 'release';
  }
  if (now !== undefined) takeStack(ctx, before, skipAbove, now);
  return before;
}

/** A creating or releasing call's stack, as the policy allows; none for a creation that failed (no handle to locate). */
function takeStack(ctx: WrapperContext, call: CallFacts, skipAbove: Function, now: number): void {
  const what = call.stackFor;
  call.stackFor = undefined;
  if (what === 'creation') {
    if (call.status >= 0) call.site = ctx.stacks.forCreation(call.fn.name, skipAbove, now);
  } else if (what === 'release') {
    call.site = ctx.stacks.forRelease(call.fn.name, skipAbove, now);
  }
}

/** The JS object holding a handle written into `arg`: what the GC detector watches. */
function holderOf(arg: unknown): object | undefined {
  const held = Array.isArray(arg) ? arg[0] : arg;
  return typeof held === 'object' && held !== null ? held : undefined;
}

function allocated(pointers: unknown[], memory: NativeMemory): AllocatedBuffer[] {
  const buffers: AllocatedBuffer[] = [];
  for (const pointer of pointers) {
    const key = bufferKey(pointer, memory);
    if (isHandleKey(key)) buffers.push({ key, holder: typeof pointer === 'object' && pointer !== null ? pointer : undefined });
  }
  return buffers;
}

/** Buffers SSPI allocated in this call, read from where the function puts them. */
function outBuffers(fn: SspiFunction, args: unknown[], memory: NativeMemory): AllocatedBuffer[] | undefined {
  if (fn.outBufferArg !== undefined) return allocated([readPointerOut(args[fn.outBufferArg], memory)], memory);
  if (fn.attributeArg !== undefined && fn.attributeBufferArg !== undefined) {
    const slots = ALLOCATING_ATTRIBUTES.get(Number(args[fn.attributeArg]));
    return slots ? allocated(readStructPointers(args[fn.attributeBufferArg], slots, memory), memory) : undefined;
  }
  if (fn.contextReqArg !== undefined && fn.outputArg !== undefined && (Number(args[fn.contextReqArg]) & REQ_ALLOCATE_MEMORY) !== 0) {
    return allocated(readSecBufferPointers(args[fn.outputArg], memory), memory);
  }
  return undefined;
}

/**
 * `outOnly`: the app declared the handle out-param `_Out_` (see declaredOutOnly). `skipAbove`: the
 * synchronous wrapper, still on the stack, whose call's stack is taken now; undefined for `.async`.
 */
export function observe(
  fn: SspiFunction,
  ctx: WrapperContext,
  args: unknown[],
  call: CallFacts,
  result: unknown,
  start: number,
  end: number,
  outOnly: boolean,
  skipAbove?: Function,
): void {
  // A function declared with a void result tells nothing: it is taken as succeeded.
  const status = toStatus(result) ?? SEC_E_OK;
  call.status = status;
  if (skipAbove) takeStack(ctx, call, skipAbove, end);
  call.durationSeconds = (end - start) / 1000;
  call.at = end;
  if (isSuccess(status) && fn.outHandleArg !== undefined) {
    // Only a successful call wrote a handle: after a failure the out-param may be a pointer the
    // provider rejected unread (even a garbage one), which the agent must not read either.
    const out = args[fn.outHandleArg];
    if (out !== undefined) {
      call.outHandle = readHandle(out, ctx.memory);
      call.outHolder = holderOf(out);
    }
  } else if (call.outRead) {
    // WinPR's first AcceptSecurityContext makes a context and writes its handle even when it fails
    // (SSPI says no handle exists then). The value may be one the agent saw deleted before (the
    // allocator reuses it), and the app may delete it: the guard must not take that for a double free.
    // Written by the provider: anything in an `_Out_` param (koffi writes back what the provider
    // left, zeros when it wrote nothing), or a changed value. An `_Inout_` struct still holding a deleted value is ambiguous
    // (rewritten with the same value, or untouched): it stays released, the safe side.
    const written = readOwnedHandle(args[fn.outHandleArg!], ctx.memory);
    if (outOnly || written !== call.outBefore) call.failedOutHandle = written;
  }
  const negotiating = (fn.role === 'init-context' || fn.role === 'accept-context') && ctx.negotiate.isNegotiateCall(call);
  if (status >= 0) {
    call.outBuffers = outBuffers(fn, args, ctx.memory);
    if (negotiating) call.tokenVerdict = tokenVerdict(fn, args, ctx.memory);
  }
  ctx.negotiate.observe(call, negotiating);
  recordObservedCall(ctx.registry, call);
}
