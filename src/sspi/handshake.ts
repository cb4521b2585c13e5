/** Where a context's handshake stands after a handshake call (ISC/ASC/CompleteAuthToken) returned `status`. */
import { statusCode } from './status.js';

/** The statuses that ask the app for another leg (or to complete the token first): the handshake goes on. */
const GOES_ON = new Set(['SEC_I_CONTINUE_NEEDED', 'SEC_I_COMPLETE_NEEDED', 'SEC_I_COMPLETE_AND_CONTINUE'].map((name) => statusCode(name)!));

/** Where a context's handshake stands, after the last ISC/ASC/CompleteAuthToken call on it. */
export type HandshakeState = 'in-progress' | 'complete' | 'failed';

export function handshakeState(status: number): HandshakeState {
  if (status < 0) return 'failed';
  return GOES_ON.has(status) ? 'in-progress' : 'complete';
}
