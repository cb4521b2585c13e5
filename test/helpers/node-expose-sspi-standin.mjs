// A stand-in for node-expose-sspi's `sspi` object on Linux, where its Windows-only addon cannot load:
// the same API shape and failure behaviour as the addon's C++ (cpp/api/sspi/*.cc in 0.1.60: option
// objects in, `"0x<dwUpper>.0x<dwLower>"` strings out, flag names for `credentialUse`, errors thrown
// with `(error code: 0x%08x)`), on real SSPI underneath: WinPR through koffi (examples/lib/sspi-binding.mjs).
// The real addon runs in the Windows lane (test/windows/node-expose-sspi.wine.mjs).
import { loadSspi, statusName } from '../../examples/lib/sspi-binding.mjs';

const CREDENTIAL_USE = { SECPKG_CRED_INBOUND: 1, SECPKG_CRED_OUTBOUND: 2, SECPKG_CRED_BOTH: 3 };
const SEC_E_INVALID_HANDLE = 0x80090301 | 0;
const hex = (value, width) => value.toString(16).padStart(width, '0');
const errorCode = (status) => `(error code: 0x${hex(status >>> 0, 8)}) `;

function serialize(handle) {
  return `0x${hex(BigInt(handle.dwUpper), 16)}.0x${hex(BigInt(handle.dwLower), 16)}`;
}

function asArrayBuffer(buffer) {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
}

/**
 * `reissue: true` makes later InitializeSecurityContext / AcceptSecurityContext calls hand back a new
 * handle string for the same context, as Wine's secur32 does. `calls` counts what reached WinPR.
 */
export function nodeExposeSspiStandIn(koffi, { samFile, reissue = false } = {}) {
  const winpr = loadSspi(koffi);
  const aliases = new Map();
  const released = new Set();
  const calls = {};
  let nextAlias = 1;
  const count = (name) => (calls[name] = (calls[name] ?? 0) + 1);

  function deserialize(text) {
    const real = aliases.get(text) ?? text;
    const [upper, lower] = real.split('.');
    return { dwUpper: BigInt(upper), dwLower: BigInt(lower) };
  }

  /** Wine's way: a fresh wrapper handle for the same context on every later step. */
  function handed(context, isFirstCall) {
    const text = serialize(context);
    // WinPR reuses the values of released handles.
    if (isFirstCall) released.delete(text);
    if (!reissue || isFirstCall) return text;
    const alias = `0x${hex(0xa11a5n, 16)}.0x${hex(BigInt(nextAlias++), 16)}`;
    aliases.set(alias, text);
    return alias;
  }

  function token(desc) {
    return desc ? Buffer.from(desc.buffers[0]) : null;
  }

  const sspi = {
    AcquireCredentialsHandle(input) {
      if (typeof input?.packageName !== 'string') throw new Error('AcquireCredentialsHandle: packageName must be a string');
      if ('credentialUse' in input && typeof input.credentialUse !== 'string') throw new Error('credentialUse must be a flag string.');
      const use = CREDENTIAL_USE[input.credentialUse ?? 'SECPKG_CRED_BOTH'];
      const a = input.authData;
      const identity = a
        ? { User: a.user, UserLength: a.user.length, Domain: a.domain, DomainLength: a.domain.length, Password: a.password, PasswordLength: a.password.length, Flags: 2 }
        : null;
      const credential = {};
      count('AcquireCredentialsHandle');
      const status = winpr.raw.AcquireCredentialsHandleW(null, input.packageName, use, null, identity, null, null, credential, {});
      if (status < 0) throw new Error(`AcquireCredentialsHandle has failed: ${errorCode(status)}`);
      released.delete(serialize(credential));
      return { credential: serialize(credential), tsExpiry: new Date(Date.now() + 3600_000) };
    },

    InitializeSecurityContext(input) {
      let isFirstCall = !('contextHandle' in input);
      if (Object.hasOwn(input, 'isFirstCall')) isFirstCall = Boolean(input.isFirstCall);
      count('InitializeSecurityContext');
      const r = winpr.initializeContext(deserialize(input.credential), isFirstCall ? null : deserialize(input.contextHandle), token(input.SecBufferDesc), input.targetName);
      if (r.status < 0) throw new Error(`Cannot InitializeSecurityContext: secStatus = ${errorCode(r.status)}`);
      return { contextHandle: handed(r.context, isFirstCall), contextAttr: [], SECURITY_STATUS: statusName(r.status), SecBufferDesc: { ulVersion: 0, buffers: [asArrayBuffer(r.token)] } };
    },

    AcceptSecurityContext(input) {
      const isFirstCall = typeof input.contextHandle !== 'string';
      count('AcceptSecurityContext');
      const r = winpr.acceptContext(deserialize(input.credential), isFirstCall ? null : deserialize(input.contextHandle), token(input.SecBufferDesc), { samFile });
      // The addon returns SEC_E_LOGON_DENIED and throws every other error (WinPR's wrong password is SEC_E_MESSAGE_ALTERED).
      if (r.status < 0 && statusName(r.status) !== 'SEC_E_LOGON_DENIED') throw new Error(`AcceptSecurityContext: SECURITY_STATUS incorrect (<0): ${errorCode(r.status)}`);
      return { contextHandle: handed(r.context, isFirstCall), contextAttr: [], SECURITY_STATUS: statusName(r.status), SecBufferDesc: { ulVersion: 0, buffers: [asArrayBuffer(r.token)] } };
    },

    DeleteSecurityContext(context) {
      count('DeleteSecurityContext');
      // Windows answers SEC_E_INVALID_HANDLE for a deleted context; WinPR would free it twice and abort.
      const real = aliases.get(context) ?? context;
      const status = released.has(real) ? SEC_E_INVALID_HANDLE : winpr.deleteContext(deserialize(context));
      released.add(real);
      if (status !== 0) throw new Error(`Cannot DeleteSecurityContext: secStatus: ${errorCode(status)}`);
    },

    FreeCredentialsHandle(credential) {
      count('FreeCredentialsHandle');
      const status = released.has(credential) ? SEC_E_INVALID_HANDLE : winpr.freeCredentials(deserialize(credential));
      released.add(credential);
      if (status !== 0) throw new Error(`FreeCredentialsHandle error = ${errorCode(status)}`);
    },

    QuerySecurityPackageInfo(packageName) {
      count('QuerySecurityPackageInfo');
      const info = winpr.packageInfo(packageName);
      return { Name: info.name, Comment: info.comment, cbMaxToken: info.maxToken, fCapabilities: info.capabilities };
    },

    GetUserName() {
      return 'standin';
    },
  };
  return { sspi, calls };
}
