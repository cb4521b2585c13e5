// A small koffi binding of the SSPI subset an NTLM client and server need, written the way an
// ordinary app would write it: declarations by prototype string, handles as { dwLower, dwUpper }.
// On Windows it loads secur32.dll; elsewhere FreeRDP's WinPR, which exports the same functions
// with the same x64 ABI and a real NTLM implementation.
//
// The koffi module is a parameter so that the app's own `import koffi from 'koffi'` is the one
// used: that is the object an instrumentation agent sees.

// SECURITY_STATUS values. They are declared int32, so errors arrive negative: `| 0` makes the
// constants compare equal to what the functions return.
export const SEC_E_OK = 0;
export const SEC_I_CONTINUE_NEEDED = 0x00090312;
export const SEC_I_COMPLETE_NEEDED = 0x00090313;
export const SEC_I_COMPLETE_AND_CONTINUE = 0x00090314;
export const SEC_E_INSUFFICIENT_MEMORY = 0x80090300 | 0;
export const SEC_E_INVALID_HANDLE = 0x80090301 | 0;
export const SEC_E_UNSUPPORTED_FUNCTION = 0x80090302 | 0;
export const SEC_E_TARGET_UNKNOWN = 0x80090303 | 0;
export const SEC_E_INTERNAL_ERROR = 0x80090304 | 0;
export const SEC_E_SECPKG_NOT_FOUND = 0x80090305 | 0;
export const SEC_E_INVALID_TOKEN = 0x80090308 | 0;
export const SEC_E_LOGON_DENIED = 0x8009030c | 0;
export const SEC_E_UNKNOWN_CREDENTIALS = 0x8009030d | 0;
export const SEC_E_NO_CREDENTIALS = 0x8009030e | 0;
export const SEC_E_MESSAGE_ALTERED = 0x8009030f | 0;
export const SEC_E_OUT_OF_SEQUENCE = 0x80090310 | 0;
export const SEC_E_BUFFER_TOO_SMALL = 0x80090321 | 0;
export const SEC_E_INVALID_PARAMETER = 0x8009035d | 0;

const STATUS_NAMES = new Map(
  Object.entries({
    SEC_E_OK,
    SEC_I_CONTINUE_NEEDED,
    SEC_I_COMPLETE_NEEDED,
    SEC_I_COMPLETE_AND_CONTINUE,
    SEC_E_INSUFFICIENT_MEMORY,
    SEC_E_INVALID_HANDLE,
    SEC_E_UNSUPPORTED_FUNCTION,
    SEC_E_TARGET_UNKNOWN,
    SEC_E_INTERNAL_ERROR,
    SEC_E_SECPKG_NOT_FOUND,
    SEC_E_INVALID_TOKEN,
    SEC_E_LOGON_DENIED,
    SEC_E_UNKNOWN_CREDENTIALS,
    SEC_E_NO_CREDENTIALS,
    SEC_E_MESSAGE_ALTERED,
    SEC_E_OUT_OF_SEQUENCE,
    SEC_E_BUFFER_TOO_SMALL,
    SEC_E_INVALID_PARAMETER,
  }).map(([name, code]) => [code, name]),
);

/** `SEC_E_LOGON_DENIED` for a known status, `0x8009XXXX` for any other. */
export function statusName(code) {
  return STATUS_NAMES.get(code) ?? `0x${(code >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/** Success and informational statuses (SEC_I_*) are >= 0; errors have the severity bit set. */
export function isError(status) {
  return status < 0;
}

export const SECPKG_CRED_INBOUND = 1;
export const SECPKG_CRED_OUTBOUND = 2;
export const SEC_WINNT_AUTH_IDENTITY_UNICODE = 2;
export const SECURITY_NATIVE_DREP = 0x10;
export const SECBUFFER_VERSION = 0;
export const SECBUFFER_TOKEN = 2;
// HTTP authentication is tied to one connection, which is what these flags tell the package.
export const ISC_REQ_CONNECTION = 0x800;
export const ASC_REQ_CONNECTION = 0x800;
// The client asks the server to prove itself too: Kerberos then takes a second leg (the AP-REP).
export const ISC_REQ_MUTUAL_AUTH = 0x2;
export const ASC_REQ_MUTUAL_AUTH = 0x2;
// The package a context actually runs (under Negotiate: Kerberos or NTLM), a SecPkgContext_NegotiationInfoW.
export const SECPKG_ATTR_NEGOTIATION_INFO = 12;
// WinPR extension: the SAM file an NTLM server context checks passwords against.
export const SECPKG_ATTR_AUTH_NTLM_SAM_FILE = 1004;

// Larger than any NTLM token (NTLM's cbMaxToken is 2888 bytes).
export const MAX_TOKEN_SIZE = 12 * 1024;

export function defaultLibraryPath() {
  return process.platform === 'win32' ? 'secur32.dll' : 'libwinpr2.so.2';
}

/**
 * Which implementation of SSPI a loaded library is: `'winpr'` for FreeRDP's WinPR, whose extensions
 * (the SAM-file attribute) exist nowhere else, `'windows'` for secur32.dll (Windows', or Wine's).
 * Asked of the library itself, since a file name proves nothing (the bench loads WinPR through a
 * symlink of another name): only WinPR exports its own version function.
 */
export function providerOf(lib) {
  try {
    lib.func('const char *winpr_get_version_string()');
    return 'winpr';
  } catch {
    return 'windows';
  }
}

// How a provider turns a user down, as opposed to a conversation failing (a garbage token, an
// unsupported call): Windows answers SEC_E_LOGON_DENIED from AcceptSecurityContext; WinPR gives its
// verdict in CompleteAuthToken, SEC_E_MESSAGE_ALTERED for a wrong password and SEC_E_INTERNAL_ERROR
// for a user missing from the SAM file.
const REJECTIONS = {
  windows: { accept: [SEC_E_LOGON_DENIED], complete: [SEC_E_LOGON_DENIED] },
  winpr: { accept: [SEC_E_LOGON_DENIED], complete: [SEC_E_LOGON_DENIED, SEC_E_MESSAGE_ALTERED, SEC_E_INTERNAL_ERROR] },
};

// koffi type names are global to one koffi module, so each module gets its types declared once.
const typesByKoffi = new WeakMap();

function sspiTypes(koffi) {
  let types = typesByKoffi.get(koffi);
  if (!types) {
    types = declareTypes(koffi);
    typesByKoffi.set(koffi, types);
  }
  return types;
}

function declareTypes(koffi) {
  const handle = { dwLower: 'uintptr_t', dwUpper: 'uintptr_t' };
  return {
    CredHandle: declareStruct(koffi, 'CredHandle', handle),
    CtxtHandle: declareStruct(koffi, 'CtxtHandle', handle),
    TimeStamp: declareStruct(koffi, 'TimeStamp', { LowPart: 'uint32', HighPart: 'int32' }),
    SecBuffer: declareStruct(koffi, 'SecBuffer', { cbBuffer: 'uint32', BufferType: 'uint32', pvBuffer: 'void *' }),
    SecBufferDesc: declareStruct(koffi, 'SecBufferDesc', { ulVersion: 'uint32', cBuffers: 'uint32', pBuffers: 'SecBuffer *' }),
    SEC_WINNT_AUTH_IDENTITY_W: declareStruct(koffi, 'SEC_WINNT_AUTH_IDENTITY_W', {
      User: 'char16_t *',
      UserLength: 'uint32',
      Domain: 'char16_t *',
      DomainLength: 'uint32',
      Password: 'char16_t *',
      PasswordLength: 'uint32',
      Flags: 'uint32',
    }),
    SecPkgInfoW: declareStruct(koffi, 'SecPkgInfoW', {
      fCapabilities: 'uint32',
      wVersion: 'uint16',
      wRPCID: 'uint16',
      cbMaxToken: 'uint32',
      Name: 'char16_t *',
      Comment: 'char16_t *',
    }),
  };
}

// The app may have declared a struct of the same name on its koffi already (apps usually call
// it CredHandle too): reuse it when it has the same members, refuse a different layout.
function declareStruct(koffi, name, fields) {
  try {
    return koffi.struct(name, fields);
  } catch (err) {
    const existing = koffi.type(name);
    const sameMembers = Object.keys(existing.members ?? {}).join() === Object.keys(fields).join();
    if (!sameMembers) throw err;
    return existing;
  }
}

function declareFunctions(lib) {
  return {
    AcquireCredentialsHandleW: lib.func(
      'int32 __stdcall AcquireCredentialsHandleW(const char16_t *pszPrincipal, const char16_t *pszPackage, ' +
        'uint32 fCredentialUse, void *pvLogonId, const SEC_WINNT_AUTH_IDENTITY_W *pAuthData, void *pGetKeyFn, ' +
        'void *pvGetKeyArgument, _Out_ CredHandle *phCredential, _Out_ TimeStamp *ptsExpiry)',
    ),
    FreeCredentialsHandle: lib.func('int32 __stdcall FreeCredentialsHandle(CredHandle *phCredential)'),
    // phNewContext is in/out: later calls pass the existing handle, which WinPR leaves untouched.
    InitializeSecurityContextW: lib.func(
      'int32 __stdcall InitializeSecurityContextW(CredHandle *phCredential, CtxtHandle *phContext, ' +
        'const char16_t *pszTargetName, uint32 fContextReq, uint32 Reserved1, uint32 TargetDataRep, ' +
        'SecBufferDesc *pInput, uint32 Reserved2, _Inout_ CtxtHandle *phNewContext, SecBufferDesc *pOutput, ' +
        '_Out_ uint32 *pfContextAttr, _Out_ TimeStamp *ptsExpiry)',
    ),
    AcceptSecurityContext: lib.func(
      'int32 __stdcall AcceptSecurityContext(CredHandle *phCredential, CtxtHandle *phContext, ' +
        'SecBufferDesc *pInput, uint32 fContextReq, uint32 TargetDataRep, _Inout_ CtxtHandle *phNewContext, ' +
        'SecBufferDesc *pOutput, _Out_ uint32 *pfContextAttr, _Out_ TimeStamp *ptsExpiry)',
    ),
    CompleteAuthToken: lib.func('int32 __stdcall CompleteAuthToken(CtxtHandle *phContext, SecBufferDesc *pToken)'),
    DeleteSecurityContext: lib.func('int32 __stdcall DeleteSecurityContext(CtxtHandle *phContext)'),
    SetContextAttributesA: lib.func(
      'int32 __stdcall SetContextAttributesA(CtxtHandle *phContext, uint32 ulAttribute, void *pBuffer, uint32 cbBuffer)',
    ),
    QuerySecurityPackageInfoW: lib.func(
      'int32 __stdcall QuerySecurityPackageInfoW(const char16_t *pszPackageName, _Out_ void **ppPackageInfo)',
    ),
    FreeContextBuffer: lib.func('int32 __stdcall FreeContextBuffer(void *pvContextBuffer)'),
    QueryContextAttributesW: lib.func('int32 __stdcall QueryContextAttributesW(CtxtHandle *phContext, uint32 ulAttribute, void *pBuffer)'),
  };
}

/**
 * Loads the SSPI provider library and returns its raw functions (`raw`) plus helpers that take
 * and return plain JS values: handles as { dwLower, dwUpper } objects, tokens as Buffers.
 */
export function loadSspi(koffi, libraryPath = defaultLibraryPath()) {
  const types = sspiTypes(koffi);
  const lib = koffi.load(libraryPath);
  const raw = declareFunctions(lib);
  const provider = providerOf(lib);
  const rejections = REJECTIONS[provider];
  const secBufferSize = koffi.sizeof(types.SecBuffer);

  // SSPI reports the output token's length by rewriting cbBuffer inside the SecBuffer. koffi
  // would marshal a nested SecBuffer through temporary memory and drop that update, so the
  // SecBuffer lives in a Buffer of ours (passed as the pointer) and is decoded after the call.
  function tokenDesc(data) {
    const secBuffer = Buffer.alloc(secBufferSize);
    koffi.encode(secBuffer, 0, types.SecBuffer, { cbBuffer: data.length, BufferType: SECBUFFER_TOKEN, pvBuffer: data });
    return { desc: { ulVersion: SECBUFFER_VERSION, cBuffers: 1, pBuffers: secBuffer }, secBuffer, data };
  }

  function outputToken() {
    return tokenDesc(Buffer.alloc(MAX_TOKEN_SIZE));
  }

  function tokenOf({ secBuffer, data }) {
    const { cbBuffer } = koffi.decode(secBuffer, types.SecBuffer);
    return Buffer.from(data.subarray(0, cbBuffer));
  }

  function acquireCredentials(pkg, credentialUse, identity) {
    const credential = {};
    const status = raw.AcquireCredentialsHandleW(null, pkg, credentialUse, null, identity, null, null, credential, {});
    if (status !== SEC_E_OK) {
      throw Object.assign(new Error(`AcquireCredentialsHandleW(${pkg}) failed: ${statusName(status)}`), { status });
    }
    return credential;
  }

  /** Outbound credentials for an explicit user; throws when the package refuses them. */
  function acquireClientCredentials({ user, domain, password, pkg = 'NTLM' }) {
    return acquireCredentials(pkg, SECPKG_CRED_OUTBOUND, {
      User: user,
      UserLength: user.length,
      Domain: domain,
      DomainLength: domain.length,
      Password: password,
      PasswordLength: password.length,
      Flags: SEC_WINNT_AUTH_IDENTITY_UNICODE,
    });
  }

  /** Inbound credentials for a server; throws when the package is missing. */
  function acquireServerCredentials({ pkg = 'NTLM' } = {}) {
    return acquireCredentials(pkg, SECPKG_CRED_INBOUND, null);
  }

  /**
   * One client step. `context` is null on the first call (a new handle comes back when the
   * status is not an error) and the handle from the first call afterwards.
   */
  function initializeContext(credential, context, inputToken, target, flags = ISC_REQ_CONNECTION) {
    const input = inputToken ? tokenDesc(inputToken).desc : null;
    const output = outputToken();
    const handle = context ?? newHandle();
    const status = raw.InitializeSecurityContextW(
      credential, context, target, flags, 0, SECURITY_NATIVE_DREP, input, 0, handle, output.desc, [0], {},
    );
    return { status, context: contextAfter(context, handle, status), token: tokenOf(output) };
  }

  /**
   * One server step. Points a new context at `samFile` where the provider is WinPR (elsewhere the
   * machine's own accounts are checked) and runs CompleteAuthToken when the package asks for it;
   * `status` is then CompleteAuthToken's verdict. `rejected` is true when the status turns the user
   * down (a wrong password, an unknown user), false for every other failure.
   */
  function acceptContext(credential, context, inputToken, { samFile, flags = ASC_REQ_CONNECTION } = {}) {
    const output = outputToken();
    const handle = context ?? newHandle();
    const status = raw.AcceptSecurityContext(
      credential, context, tokenDesc(inputToken).desc, flags, SECURITY_NATIVE_DREP, handle, output.desc, [0], {},
    );
    const accepted = contextAfter(context, handle, status);
    if (!context && accepted && samFile && provider === 'winpr') {
      const samStatus = setSamFile(accepted, samFile);
      if (isError(samStatus)) return { status: samStatus, rejected: false, context: accepted, token: Buffer.alloc(0) };
    }
    if (status !== SEC_I_COMPLETE_NEEDED && status !== SEC_I_COMPLETE_AND_CONTINUE) {
      return { status, rejected: rejections.accept.includes(status), context: accepted, token: tokenOf(output) };
    }
    const completeStatus = raw.CompleteAuthToken(accepted, output.desc);
    if (isError(completeStatus)) return { status: completeStatus, rejected: rejections.complete.includes(completeStatus), context: accepted, token: tokenOf(output) };
    return { status: status === SEC_I_COMPLETE_NEEDED ? SEC_E_OK : SEC_I_CONTINUE_NEEDED, rejected: false, context: accepted, token: tokenOf(output) };
  }

  /** WinPR copies the path, so the buffer only has to live for the call. */
  function setSamFile(context, samFile) {
    const path = Buffer.from(`${samFile}\0`, 'utf8');
    return raw.SetContextAttributesA(context, SECPKG_ATTR_AUTH_NTLM_SAM_FILE, path, path.length);
  }

  function deleteContext(context) {
    return raw.DeleteSecurityContext(context);
  }

  function freeCredentials(credential) {
    return raw.FreeCredentialsHandle(credential);
  }

  /** The package's description; the buffer SSPI allocated for it goes back with FreeContextBuffer. */
  function packageInfo(pkg = 'NTLM') {
    const out = [null];
    const status = raw.QuerySecurityPackageInfoW(pkg, out);
    if (status !== SEC_E_OK) {
      throw Object.assign(new Error(`QuerySecurityPackageInfoW(${pkg}) failed: ${statusName(status)}`), { status });
    }
    try {
      const info = koffi.decode(out[0], types.SecPkgInfoW);
      return { name: info.Name, comment: info.Comment, maxToken: info.cbMaxToken, capabilities: info.fCapabilities };
    } finally {
      raw.FreeContextBuffer(out[0]);
    }
  }

  /**
   * The package `context` actually runs, from SECPKG_ATTR_NEGOTIATION_INFO: a SecPkgInfoW that SSPI
   * allocated, returned with FreeContextBuffer unless `free` is false (so a test can leak it).
   */
  function negotiatedPackage(context, { free = true } = {}) {
    const info = Buffer.alloc(16); // { SecPkgInfoW *PackageInfo; ULONG NegotiationState; }
    const status = raw.QueryContextAttributesW(context, SECPKG_ATTR_NEGOTIATION_INFO, info);
    if (status !== SEC_E_OK) return { status };
    const pointer = info.readBigUInt64LE(0);
    const name = koffi.decode(pointer, types.SecPkgInfoW).Name;
    return { status, name, pointer, freeStatus: free ? raw.FreeContextBuffer(pointer) : undefined };
  }

  /**
   * A whole NTLM conversation in this process: client ISC → server ASC → client ISC → server ASC
   * (+ CompleteAuthToken). Handles are deleted/freed unless the flags say otherwise (so a test
   * can leak some on purpose); released ones come back as null, kept ones as handles.
   */
  function handshake({ user, domain, password, samFile, pkg = 'NTLM', target = 'HTTP/localhost', deleteContexts = true, freeCredentials: free = true }) {
    const result = { clientStatus: null, serverStatus: null, clientCred: null, serverCred: null, clientCtx: null, serverCtx: null };
    try {
      result.clientCred = acquireClientCredentials({ user, domain, password, pkg });
      result.serverCred = acquireServerCredentials({ pkg });
      converse(result, { samFile, target });
      return result;
    } finally {
      release(result, { deleteContexts, free });
    }
  }

  function converse(result, { samFile, target }) {
    const negotiate = initializeContext(result.clientCred, null, null, target);
    result.clientStatus = negotiate.status;
    result.clientCtx = negotiate.context;
    if (isError(negotiate.status)) return;

    const challenge = acceptContext(result.serverCred, null, negotiate.token, { samFile });
    result.serverStatus = challenge.status;
    result.serverCtx = challenge.context;
    if (isError(challenge.status)) return;

    const authenticate = initializeContext(result.clientCred, result.clientCtx, challenge.token, target);
    result.clientStatus = authenticate.status;
    if (isError(authenticate.status)) return;

    result.serverStatus = acceptContext(result.serverCred, result.serverCtx, authenticate.token, { samFile }).status;
  }

  // Contexts first, then the credentials they were built on: SSPI's order at the end of a conversation.
  function release(result, { deleteContexts, free }) {
    if (deleteContexts) {
      for (const key of ['clientCtx', 'serverCtx']) {
        if (result[key]) deleteContext(result[key]);
        result[key] = null;
      }
    }
    if (free) {
      for (const key of ['clientCred', 'serverCred']) {
        if (result[key]) freeCredentials(result[key]);
        result[key] = null;
      }
    }
  }

  return {
    library: lib,
    libraryPath,
    provider,
    types,
    raw,
    acquireClientCredentials,
    acquireServerCredentials,
    initializeContext,
    acceptContext,
    setSamFile,
    deleteContext,
    freeCredentials,
    packageInfo,
    negotiatedPackage,
    handshake,
  };
}

function newHandle() {
  return { dwLower: 0n, dwUpper: 0n };
}

// Only the first call (no context yet) creates a handle, and only when it did not fail.
function contextAfter(context, handle, status) {
  if (context) return context;
  return isError(status) ? null : handle;
}
