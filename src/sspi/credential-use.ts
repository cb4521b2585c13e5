/** `fCredentialUse` of AcquireCredentialsHandle: 1 inbound (server), 2 outbound (client), 3 both. */
import type { Direction } from '../types.js';

/** `fCredentialUse` may carry flags above the two direction bits (e.g. SECPKG_CRED_AUTOLOGON_RESTRICTED). */
export function credentialDirection(use: number | undefined): Direction {
  switch ((use ?? 0) & 3) {
    case 1:
      return 'inbound';
    case 2:
      return 'outbound';
    case 3:
      return 'both';
    default:
      return 'unknown';
  }
}
