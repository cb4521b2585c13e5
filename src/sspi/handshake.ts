/** Where a context's handshake stands after a handshake call (ISC/ASC/CompleteAuthToken) returned `status`. */
import { SEC_I_COMPLETE_AND_CONTINUE, SEC_I_COMPLETE_NEEDED, SEC_I_CONTINUE_NEEDED } from './status.js';

/** The statuses that ask the app for another leg (or to complete the token first): the handshake goes on. */
const GOES_ON = new Set([SEC_I_CONTINUE_NEEDED, SEC_I_COMPLETE_NEEDED, SEC_I_COMPLETE_AND_CONTINUE]);

/** Where a context's handshake stands, after the last ISC/ASC/CompleteAuthToken call on it. */
export type HandshakeState = 'in-progress' | 'complete' | 'failed';

export function handshakeState(status: number): HandshakeState {
  if (status < 0) return 'failed';
  return GOES_ON.has(status) ? 'in-progress' : 'complete';
}
