/**
 * Which of one provider library's handles are Negotiate's, as its wrapped calls show them: ISC/ASC
 * tokens are read (token-reader.ts) only for calls on those, so that an app's NTLM or Kerberos
 * contexts pay no read of native memory beside its Negotiate ones.
 *
 * The registry knows each handle's package, but not at call time: what the last calls made (a
 * handshake acquires, then calls ISC, in one turn) waits in its queue, and asking would apply it
 * between two native calls, which the queue exists to avoid. The token has to be read in the call's
 * own turn, so the hook keeps its own two sets. A library with no live Negotiate handle pays two
 * size checks per ISC/ASC call; one with some, one Set lookup.
 *
 * A handle released behind the hook's back (the agent's forced cleanup uses its own declarations)
 * stays in a set: a value re-issued to another package's context then costs a read that tells
 * nothing, since the rules note a verdict for Negotiate contexts only.
 */
import type { SspiFunction } from '../sspi/functions.js';
import { NEGOTIATE_PACKAGE, packageLabel } from '../sspi/packages.js';
import { isSuccess } from '../sspi/status.js';
import { isHandleKey, type HandleKey, type ReadHandle } from '../types.js';
import { isZeroKey } from '../core/handle-keys.js';

/** What the sets need of one call: its inputs, status, and the handle it wrote. */
interface NegotiateCallFacts {
  readonly fn: SspiFunction;
  readonly credential: ReadHandle;
  readonly context: ReadHandle;
  readonly packageName: string | undefined;
  readonly status: number;
  readonly outHandle: ReadHandle;
}

export class NegotiateHandles {
  private readonly credentials = new Set<HandleKey>();
  private readonly contexts = new Set<HandleKey>();

  /** Whether an ISC/ASC call is a Negotiate context's: a later step on one, or a first call with a Negotiate credential. */
  isNegotiateCall(call: NegotiateCallFacts): boolean {
    if (call.context === null) return this.credentials.size !== 0 && isHandleKey(call.credential) && this.credentials.has(call.credential);
    return this.contexts.size !== 0 && isHandleKey(call.context) && this.contexts.has(call.context);
  }

  /** After a call returned; `negotiating`: what isNegotiateCall said of it. */
  observe(call: NegotiateCallFacts, negotiating: boolean): void {
    switch (call.fn.role) {
      case 'acquire-credential':
        if (isSuccess(call.status) && isHandleKey(call.outHandle) && packageLabel(call.packageName) === NEGOTIATE_PACKAGE) this.credentials.add(call.outHandle);
        return;
      case 'init-context':
      case 'accept-context':
        if (negotiating && isSuccess(call.status)) this.contextWritten(call.context, call.outHandle);
        return;
      case 'free-credential':
        if (this.credentials.size !== 0 && isHandleKey(call.credential)) this.credentials.delete(call.credential);
        return;
      case 'delete-context':
        if (this.contexts.size !== 0 && isHandleKey(call.context)) this.contexts.delete(call.context);
        return;
      default:
        return;
    }
  }

  /** A first call made the context; a later one may write a new value for it (Wine does). */
  private contextWritten(context: ReadHandle, written: ReadHandle): void {
    if (!isHandleKey(written) || written === context || isZeroKey(written)) return;
    if (isHandleKey(context)) this.contexts.delete(context);
    this.contexts.add(written);
  }
}
