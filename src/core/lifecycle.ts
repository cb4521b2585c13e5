/**
 * SSPI's handle rules, applied to the registry. A hook (koffi, or another binding) turns each call
 * into an `ObservedCall`, the facts read from its arguments, and this module decides what the call
 * did: a credential, context or buffer came to life, ended, was used, or nothing changed; and, before
 * the call runs, whether it must not reach the provider at all (a handle already released).
 */
import * as clock from './clock.js';
import { callDetails } from './call-details.js';
import { isZeroKey } from './handle-keys.js';
import { endNegotiation, noteNegotiation } from './negotiation.js';
import { agentError, warnOnce } from '../diagnostics.js';
import { isHandshakeStep, releasedKind, type SspiFunction } from '../sspi/functions.js';
import { packageLabel, OTHER_PACKAGE } from '../sspi/packages.js';
import { SEC_E_INVALID_HANDLE, isSuccess } from '../sspi/status.js';
import type { HandleRegistry } from './registry.js';
import { credentialDirection } from '../sspi/credential-use.js';
import {
  isHandleKey,
  type AllocationSite,
  type CallerFacts,
  type Direction,
  type HandleKey,
  type HandleKind,
  type InvalidRelease,
  type ReadHandle,
  type TrackedHandle,
} from '../types.js';
import { callerAt, releasedKey, type CallInputs, type ObservedCall } from './observed-call.js';

/** Whether a call can create a handle, so the hook knows to ask the stack policy for its stack. */
export function mayCreateHandle(fn: SspiFunction, context: ReadHandle): boolean {
  switch (fn.role) {
    case 'acquire-credential':
    case 'import-context':
    case 'allocate-buffer':
      return true;
    case 'init-context':
    case 'accept-context':
      return context === null;
    default:
      return false;
  }
}

export function isRelease(fn: SspiFunction): boolean {
  return releasedKind(fn) !== undefined;
}

/**
 * Before the call: a release of a handle the agent saw released (and not re-issued since) is a
 * double free, any other call passing one a use after release. Either must not reach the provider:
 * WinPR aborts the process on a double free, and Windows' behaviour is undefined.
 */
export function guardCall(registry: HandleRegistry, fn: SspiFunction, inputs: CallInputs): InvalidRelease | undefined {
  const kind = releasedKind(fn);
  if (kind) {
    return releasedOnly(registry, kind, releasedKey(kind, inputs), 'double', fn);
  }
  return (
    releasedOnly(registry, 'context', inputs.context, 'use_after_release', fn) ??
    releasedOnly(registry, 'credential', inputs.credential, 'use_after_release', fn)
  );
}

/**
 * The guard stopped a call (`verdict`, from guardCall) before it reached the provider: the misuse is
 * told, with the stack of the stopped call, and the call counted with the SEC_E_INVALID_HANDLE the app
 * gets instead.
 */
export function recordBlockedCall(registry: HandleRegistry, fn: SspiFunction, verdict: InvalidRelease, site: AllocationSite | undefined): void {
  const caller = registry.captureCaller(clock.now());
  registry.blocked({ ...verdict, site, caller });
  registry.recordCall(fn.name, SEC_E_INVALID_HANDLE, 0, undefined, caller);
}

/** The app unloads a provider while handles it made are live: SSPI's order (contexts, credentials, then the library) is broken. */
export function recordUnload(registry: HandleRegistry, library: string, live: readonly TrackedHandle[]): void {
  registry.unloadedWithLiveHandles(library, live);
}

function releasedOnly(
  registry: HandleRegistry,
  kind: HandleKind,
  key: ReadHandle,
  reason: 'double' | 'use_after_release',
  fn: SspiFunction,
): InvalidRelease | undefined {
  if (!isHandleKey(key)) return undefined;
  const released = registry.releasedHandle(kind, key);
  return released ? { kind, reason, fn: fn.name, released } : undefined;
}

/**
 * Logs an observed call in the registry's call log, which applies it (`applyCall`) in a batch before
 * the registry's state is next read, or at the next event-loop turn (see `HandleRegistry.log`). Every
 * call takes this one path: when a listener captures the caller's context (an SDK is there to make
 * its span), that context is one more column of the call's row, and its span is built when the row
 * is applied, with the call's own times and parent.
 */
export function recordObservedCall(registry: HandleRegistry, call: ObservedCall): void {
  const at = call.at ?? clock.now();
  const context = call.issuedAt === undefined ? registry.captureContext() : call.issuedCaller?.context;
  if (call.issuedAt !== undefined && releasesEarlierHolder(registry, call)) {
    registry.recordCall(call.fn.name, call.status, call.durationSeconds, undefined, callerAt(context, at));
    return;
  }
  registry.log.append(call, applyLogged, context, at);
}

/**
 * An `.async` release whose value the provider handed out again before its callback ran: the native
 * release freed the value, a call the app made meanwhile got it back, and that handle is live. The
 * release was of the value's earlier holder, which the re-issue closed; the live one is untouched.
 */
function releasesEarlierHolder(registry: HandleRegistry, call: ObservedCall): boolean {
  const kind = releasedKind(call.fn);
  if (kind === undefined) return false;
  const key = releasedKey(kind, call);
  if (!isHandleKey(key)) return false;
  // Applies what waits first: the calls made while this one ran on the worker thread.
  const holder = registry.settled().get(kind, key);
  return holder !== undefined && holder.createdAt > call.issuedAt!;
}

/** `applyCall` for a logged call: what it throws is the agent's error, counted where hooks count theirs. */
function applyLogged(registry: HandleRegistry, call: ObservedCall, caller: CallerFacts | undefined): void {
  try {
    applyCall(registry, call, caller);
  } catch (err) {
    agentError('hook.after', err);
  }
}

/** What `call` did, applied to the registry in call order, from the call log. */
export function applyCall(registry: HandleRegistry, call: ObservedCall, caller?: CallerFacts): void {
  const name = call.fn.name;
  const state = registry.settled();
  const details = caller !== undefined && registry.wantsDetails(name) ? callDetails(state, call) : undefined;
  registry.recordCall(name, call.status, call.durationSeconds, details, caller);
  const context = isHandleKey(call.context) ? state.get('context', call.context) : undefined;
  if (context && call.fn.role !== 'delete-context') registry.touch(context, call.fn.name, call.status, isHandshakeStep(call.fn), call.at);
  switch (call.fn.role) {
    case 'acquire-credential':
      openHandle(registry, call, caller, 'credential', packageLabel(call.packageName), credentialDirection(call.credentialUse));
      return;
    case 'init-context':
    case 'accept-context': {
      const credential = isHandleKey(call.credential) ? state.get('credential', call.credential) : undefined;
      // Only the first call of a handshake (phContext NULL) creates the context; later calls reuse it.
      if (call.context === null && isWrittenHandle(call.failedOutHandle)) registry.forgetReleased('context', call.failedOutHandle);
      let conversing: TrackedHandle | undefined = context;
      if (call.context === null) {
        const direction: Direction = call.fn.role === 'init-context' ? 'outbound' : 'inbound';
        conversing = openHandle(registry, call, caller, 'context', credential?.package ?? OTHER_PACKAGE, direction, credential);
      } else if (context && isSuccess(call.status) && isWrittenHandle(call.outHandle)) {
        registry.rekey(context, call.outHandle, call.at);
      }
      if (conversing) noteNegotiation(registry, conversing, call);
      openBuffers(registry, call, caller, context?.package ?? credential?.package ?? OTHER_PACKAGE);
      return;
    }
    case 'import-context':
      openHandle(registry, call, caller, 'context', packageLabel(call.packageName), 'unknown');
      return;
    case 'allocate-buffer':
      openBuffers(registry, call, caller, call.packageName === undefined ? OTHER_PACKAGE : packageLabel(call.packageName));
      return;
    case 'query-attributes':
      openBuffers(registry, call, caller, context?.package ?? OTHER_PACKAGE);
      return;
    case 'free-credential':
      releaseHandle(registry, 'credential', call.credential, call, caller);
      return;
    case 'delete-context':
      if (context) endNegotiation(registry, context);
      releaseHandle(registry, 'context', call.context, call, caller);
      return;
    case 'free-buffer':
      releaseHandle(registry, 'buffer', call.buffer, call, caller);
      return;
    case 'call':
      return;
  }
}

function openHandle(
  registry: HandleRegistry,
  call: ObservedCall,
  caller: CallerFacts | undefined,
  kind: 'credential' | 'context',
  pkg: string,
  direction: Direction,
  credential?: TrackedHandle,
): TrackedHandle | undefined {
  if (!isSuccess(call.status)) return undefined;
  if (!isHandleKey(call.outHandle)) {
    warnOnce(
      `unreadable-handle:${call.fn.name}`,
      `${call.fn.name} succeeded but the agent cannot read the handle it wrote (pass a {dwLower, dwUpper} object, ` +
        'a 16-byte Buffer, a pointer or a one-element array): handles made this way are not tracked',
    );
    return undefined;
  }
  return registry.open({
    kind,
    key: call.outHandle,
    package: pkg,
    direction,
    createdBy: call.fn.name,
    library: call.provider.library,
    credential,
    site: call.site,
    releaser: call.provider.releasers[kind],
    provider: call.provider,
    holder: call.outHolder,
    status: call.status,
    at: call.at,
    caller,
  });
}

function openBuffers(registry: HandleRegistry, call: ObservedCall, caller: CallerFacts | undefined, pkg: string): void {
  if (!isSuccess(call.status) || !call.outBuffers) return;
  for (const buffer of call.outBuffers) {
    registry.open({
      kind: 'buffer',
      key: buffer.key,
      package: pkg,
      direction: 'unknown',
      createdBy: call.fn.name,
      library: call.provider.library,
      site: call.site,
      releaser: call.provider.releasers.buffer,
      provider: call.provider,
      holder: buffer.holder,
      at: call.at,
      caller,
    });
  }
}

/** A handle value a call wrote: not NULL, not unreadable, not all zeros (untouched) or all ones (SecInvalidateHandle). */
function isWrittenHandle(key: ReadHandle): key is HandleKey {
  return isHandleKey(key) && !isZeroKey(key) && key !== INVALIDATED_HANDLE;
}

/** SecInvalidateHandle's value: both words all ones. */
const INVALIDATED_HANDLE = (1n << 128n) - 1n;

function releaseHandle(registry: HandleRegistry, kind: HandleKind, key: ReadHandle, call: ObservedCall, caller: CallerFacts | undefined): void {
  // NULL or an unreadable shape: nothing the agent handed out, so it is a release of an unknown handle.
  registry.release(kind, isHandleKey(key) ? key : undefined, call.status, call.fn.name, call.site, call.at, caller);
}
