// Observed calls as the hooks hand them to the lifecycle rules, built by hand for unit tests that
// drive the registry without a native call.
import { sspiFunction } from '../../dist/sspi/functions.js';

export const provider = { library: 'libwinpr2.so.2', releasers: {} };

export function acquire(key) {
  return { fn: sspiFunction('AcquireCredentialsHandleW'), provider, status: 0, durationSeconds: 0, packageName: 'NTLM', credentialUse: 2, outHandle: key };
}

export function free(key) {
  return { fn: sspiFunction('FreeCredentialsHandle'), provider, status: 0, durationSeconds: 0, credential: key };
}

export function firstInit(credential, key) {
  return { fn: sspiFunction('InitializeSecurityContextW'), provider, status: 0x00090312, durationSeconds: 0, credential, context: null, outHandle: key };
}
