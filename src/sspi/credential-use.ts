/** `fCredentialUse` of AcquireCredentialsHandle: 1 inbound (server), 2 outbound (client), 3 both. */
/**
 * Which way a handle authenticates: a credential's `fCredentialUse` (1 inbound, 2 outbound, 3 both);
 * a context made by InitializeSecurityContext is outbound (client), by AcceptSecurityContext inbound
 * (server); an imported context's direction is not known.
 */
export type Direction = 'inbound' | 'outbound' | 'both' | 'unknown';

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
