/**
 * The package a Negotiate context actually runs. Each ISC/ASC call brings what its token showed (read
 * by the hook while the token was there, see sspi/negotiation-tokens.ts); the context's package is
 * settled, once, by a token that names it for good (raw Kerberos or NTLM, SPNEGO's supportedMech),
 * else when its handshake ends or it is deleted, with the last proposal or none (`unknown`).
 */
import type { ObservedCall } from './observed-call.js';
import type { HandleRegistry } from './registry.js';
import type { NegotiatedLabel } from '../sspi/negotiation-tokens.js';
import { NEGOTIATE_PACKAGE } from '../sspi/packages.js';
import type { TrackedHandle } from '../types.js';

/** After an ISC/ASC call on `context` (its handshake state already moved by the call). */
export function noteNegotiation(registry: HandleRegistry, context: TrackedHandle, call: ObservedCall): void {
  if (context.package !== NEGOTIATE_PACKAGE) return;
  const verdict = call.tokenVerdict;
  if (verdict) registry.negotiate(context, verdict.pkg, verdict.settled);
  if (context.handshake !== 'in-progress') registry.negotiate(context, undefined, true);
}

/** Before `context` is deleted: what its handshake showed is all there will be. */
export function endNegotiation(registry: HandleRegistry, context: TrackedHandle): void {
  if (context.package === NEGOTIATE_PACKAGE) registry.negotiate(context, undefined, true);
}

/** What reports and spans say a handle negotiated: for a Negotiate context only. */
export function negotiatedLabel(handle: TrackedHandle): NegotiatedLabel | undefined {
  return handle.package === NEGOTIATE_PACKAGE && handle.kind === 'context' ? (handle.negotiated ?? 'unknown') : undefined;
}
