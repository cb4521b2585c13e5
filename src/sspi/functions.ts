/**
 * What the agent knows of each SSPI function: which role it plays in a handle's life and where its
 * handle arguments sit (zero-based positions, as in Microsoft's prototypes). Functions not listed
 * here are left unwrapped, which also bounds the `function` label.
 */

export type FunctionRole =
  | 'acquire-credential'
  | 'free-credential'
  | 'init-context'
  | 'accept-context'
  | 'import-context'
  | 'delete-context'
  /** Returns an SSPI-allocated buffer through `outBufferArg`. */
  | 'allocate-buffer'
  | 'free-buffer'
  /** QueryContextAttributes: allocates buffers for some attributes. */
  | 'query-attributes'
  /** Counted and timed only (and guarded, when it passes a handle). */
  | 'call';

export interface SspiFunction {
  /** Its index in the table: what the call log stores for it. */
  readonly id: number;
  readonly name: string;
  readonly role: FunctionRole;
  /** Wide-character (`W`) variant: its strings are UTF-16. */
  readonly wide: boolean;
  /** Position of `pszPackage`. */
  readonly packageArg?: number;
  /** Position of `fCredentialUse`. */
  readonly credentialUseArg?: number;
  /** Position of an existing credential handle (`phCredential`). */
  readonly credentialArg?: number;
  /** Position of an existing context handle (`phContext`); NULL on a handshake's first call. */
  readonly contextArg?: number;
  /** Position of the handle the call writes (`phCredential` out, `phNewContext`, imported `phContext`). */
  readonly outHandleArg?: number;
  /** Position of a `void **` the call fills with a buffer SSPI allocated. */
  readonly outBufferArg?: number;
  /** Position of the buffer FreeContextBuffer returns. */
  readonly bufferArg?: number;
  /** ISC/ASC: positions of `fContextReq` and `pOutput` (buffers allocated with *_REQ_ALLOCATE_MEMORY), and of `pInput`. */
  readonly contextReqArg?: number;
  readonly outputArg?: number;
  readonly inputArg?: number;
  /** QueryContextAttributes: positions of `ulAttribute` and `pBuffer`. */
  readonly attributeArg?: number;
  readonly attributeBufferArg?: number;
}

type Shape = Omit<SspiFunction, 'id' | 'name' | 'wide'>;

/** Each entry becomes `<base>A` and `<base>W`; `[base, shape, false]` is a function with no A/W pair. */
const TABLE: Array<[string, Shape, boolean?]> = [
  ['AcquireCredentialsHandle', { role: 'acquire-credential', packageArg: 1, credentialUseArg: 2, outHandleArg: 7 }],
  ['FreeCredentialsHandle', { role: 'free-credential', credentialArg: 0 }, false],
  ['InitializeSecurityContext', { role: 'init-context', credentialArg: 0, contextArg: 1, outHandleArg: 8, contextReqArg: 3, outputArg: 9, inputArg: 6 }],
  ['AcceptSecurityContext', { role: 'accept-context', credentialArg: 0, contextArg: 1, outHandleArg: 5, contextReqArg: 3, outputArg: 6, inputArg: 2 }, false],
  ['ImportSecurityContext', { role: 'import-context', packageArg: 0, outHandleArg: 3 }],
  ['DeleteSecurityContext', { role: 'delete-context', contextArg: 0 }, false],
  ['CompleteAuthToken', { role: 'call', contextArg: 0 }, false],
  ['ApplyControlToken', { role: 'call', contextArg: 0 }, false],
  ['QueryContextAttributes', { role: 'query-attributes', contextArg: 0, attributeArg: 1, attributeBufferArg: 2 }],
  ['QueryContextAttributesEx', { role: 'call', contextArg: 0 }],
  ['SetContextAttributes', { role: 'call', contextArg: 0 }],
  ['QueryCredentialsAttributes', { role: 'call', credentialArg: 0 }],
  ['QueryCredentialsAttributesEx', { role: 'call', credentialArg: 0 }],
  ['SetCredentialsAttributes', { role: 'call', credentialArg: 0 }],
  ['ExportSecurityContext', { role: 'call', contextArg: 0 }, false],
  ['ImpersonateSecurityContext', { role: 'call', contextArg: 0 }, false],
  ['RevertSecurityContext', { role: 'call', contextArg: 0 }, false],
  ['QuerySecurityContextToken', { role: 'call', contextArg: 0 }, false],
  ['MakeSignature', { role: 'call', contextArg: 0 }, false],
  ['VerifySignature', { role: 'call', contextArg: 0 }, false],
  ['EncryptMessage', { role: 'call', contextArg: 0 }, false],
  ['DecryptMessage', { role: 'call', contextArg: 0 }, false],
  ['QuerySecurityPackageInfo', { role: 'allocate-buffer', packageArg: 0, outBufferArg: 1 }],
  ['EnumerateSecurityPackages', { role: 'allocate-buffer', outBufferArg: 1 }],
  ['FreeContextBuffer', { role: 'free-buffer', bufferArg: 0 }, false],
  ['AddCredentials', { role: 'call', credentialArg: 0 }],
  ['ChangeAccountPassword', { role: 'call' }],
];

/**
 * Every function's record has every field, in one order: the hooks and the rules read these fields
 * on every call, and records of different shapes (a field present in some, absent in others) made
 * each of those reads polymorphic.
 */
function record(id: number, name: string, wide: boolean, shape: Shape): SspiFunction {
  return {
    id,
    name,
    role: shape.role,
    wide,
    packageArg: shape.packageArg,
    credentialUseArg: shape.credentialUseArg,
    credentialArg: shape.credentialArg,
    contextArg: shape.contextArg,
    outHandleArg: shape.outHandleArg,
    outBufferArg: shape.outBufferArg,
    bufferArg: shape.bufferArg,
    contextReqArg: shape.contextReqArg,
    outputArg: shape.outputArg,
    inputArg: shape.inputArg,
    attributeArg: shape.attributeArg,
    attributeBufferArg: shape.attributeBufferArg,
  };
}

const FUNCTIONS = new Map<string, SspiFunction>();
const BY_ID: SspiFunction[] = [];
for (const [base, shape, paired = true] of TABLE) {
  const variants: Array<[string, boolean]> = paired ? [[base + 'A', false], [base + 'W', true]] : [[base, false]];
  for (const [name, wide] of variants) {
    const fn = record(BY_ID.length, name, wide, shape);
    BY_ID.push(fn);
    FUNCTIONS.set(name, fn);
  }
}

/** The function with this `id`. */
export function sspiFunctionById(id: number): SspiFunction {
  return BY_ID[id]!;
}

/** ISC_REQ_ALLOCATE_MEMORY and ASC_REQ_ALLOCATE_MEMORY: SSPI allocates the output tokens. */
export const REQ_ALLOCATE_MEMORY = 0x100;

/**
 * QueryContextAttributes attributes whose result struct holds pointers SSPI allocated, and which of
 * the struct's pointer-sized slots they are in (x64: each field before them is 8 bytes or padded to it).
 */
export const ALLOCATING_ATTRIBUTES: ReadonlyMap<number, readonly number[]> = new Map([
  [1, [0]], // SECPKG_ATTR_NAMES: sUserName
  [3, [1]], // SECPKG_ATTR_DCE_INFO: pPac
  [5, [0, 1]], // SECPKG_ATTR_KEY_INFO: sSignatureAlgorithmName, sEncryptAlgorithmName
  [6, [0]], // SECPKG_ATTR_AUTHORITY: sAuthorityName
  [9, [1]], // SECPKG_ATTR_SESSION_KEY: SessionKey
  [10, [0]], // SECPKG_ATTR_PACKAGE_INFO: PackageInfo
  [12, [0]], // SECPKG_ATTR_NEGOTIATION_INFO: PackageInfo
  [13, [0, 1]], // SECPKG_ATTR_NATIVE_NAMES: sClientName, sServerName
  [17, [1]], // SECPKG_ATTR_TARGET_INFORMATION: MarshalledTargetInfo
  [27, [0]], // SECPKG_ATTR_CLIENT_SPECIFIED_TARGET: sTargetName
]);

/** The functions whose status moves a context's handshake along. */
export function isHandshakeStep(fn: SspiFunction): boolean {
  return fn.role === 'init-context' || fn.role === 'accept-context' || fn.name === 'CompleteAuthToken';
}

export function sspiFunction(name: string): SspiFunction | undefined {
  return FUNCTIONS.get(name);
}

/** The kind of handle a release function releases. */
export function releasedKind(fn: SspiFunction): 'credential' | 'context' | 'buffer' | undefined {
  return fn.role === 'free-credential' ? 'credential' : fn.role === 'delete-context' ? 'context' : fn.role === 'free-buffer' ? 'buffer' : undefined;
}

/** The kind of handle a function writes into its out-param. */
export function handedOutKind(fn: SspiFunction): 'credential' | 'context' | undefined {
  const role = fn.role;
  if (role === 'acquire-credential') return 'credential';
  return role === 'init-context' || role === 'accept-context' || role === 'import-context' ? 'context' : undefined;
}
