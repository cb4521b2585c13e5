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
  /** Counted and timed only. */
  | 'call';

export interface SspiFunction {
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
}

type Shape = Omit<SspiFunction, 'name' | 'wide'>;

/** Each entry becomes `<base>A` and `<base>W`; `[base, shape, false]` is a function with no A/W pair. */
const TABLE: Array<[string, Shape, boolean?]> = [
  ['AcquireCredentialsHandle', { role: 'acquire-credential', packageArg: 1, credentialUseArg: 2, outHandleArg: 7 }],
  ['FreeCredentialsHandle', { role: 'free-credential', credentialArg: 0 }, false],
  ['InitializeSecurityContext', { role: 'init-context', credentialArg: 0, contextArg: 1, outHandleArg: 8 }],
  ['AcceptSecurityContext', { role: 'accept-context', credentialArg: 0, contextArg: 1, outHandleArg: 5 }, false],
  ['ImportSecurityContext', { role: 'import-context', packageArg: 0, outHandleArg: 3 }],
  ['DeleteSecurityContext', { role: 'delete-context', contextArg: 0 }, false],
  ['CompleteAuthToken', { role: 'call', contextArg: 0 }, false],
  ['ApplyControlToken', { role: 'call', contextArg: 0 }, false],
  ['QueryContextAttributes', { role: 'call', contextArg: 0 }],
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
  ['QuerySecurityPackageInfo', { role: 'call' }],
  ['EnumerateSecurityPackages', { role: 'call' }],
  ['FreeContextBuffer', { role: 'call' }, false],
  ['AddCredentials', { role: 'call', credentialArg: 0 }],
  ['ChangeAccountPassword', { role: 'call' }],
];

const FUNCTIONS = new Map<string, SspiFunction>();
for (const [base, shape, paired = true] of TABLE) {
  const variants: Array<[string, boolean]> = paired ? [[base + 'A', false], [base + 'W', true]] : [[base, false]];
  for (const [name, wide] of variants) FUNCTIONS.set(name, { name, wide, ...shape });
}

export function sspiFunction(name: string): SspiFunction | undefined {
  return FUNCTIONS.get(name);
}

export function sspiFunctionNames(): string[] {
  return [...FUNCTIONS.keys()];
}
