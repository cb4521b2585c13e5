/**
 * What node-expose-sspi's calls say, read as SSPI facts: which native function each of the addon's
 * functions calls and which handles (and tokens) it passes and writes, the statuses in its results and
 * errors, and the errors it throws itself.
 *
 * What the addon does (node-expose-sspi 0.1.x, cpp/api/sspi/*.cc): it calls the `W` functions of
 * secur32.dll; `credentialUse` is a flag name (`'SECPKG_CRED_INBOUND'`, …; anything but a string
 * throws; absent means SECPKG_CRED_BOTH); InitializeSecurityContext's first call is the one without
 * `contextHandle` (or with `isFirstCall: true`), AcceptSecurityContext's the one without a string
 * `contextHandle`; `SECURITY_STATUS` comes back as a name, `0x%08x` or a decimal number; every error
 * but AcceptSecurityContext's SEC_E_LOGON_DENIED is thrown, with `(error code: 0x%08x)` in the message;
 * Delete/Free return nothing and throw on failure.
 */
import { SEC_E_OK } from '../sspi/status.js';
import { statusCode, statusName } from '../sspi/status-names.js';
import type { ReadHandle } from '../types.js';

/** The addon's `credentialUse` flag names (cpp/flags.cc); absent means SECPKG_CRED_BOTH. */
const CREDENTIAL_USE: Record<string, number> = {
  SECPKG_CRED_INBOUND: 1,
  SECPKG_CRED_OUTBOUND: 2,
  SECPKG_CRED_BOTH: 3,
};

export type AddonFunction = (...args: unknown[]) => unknown;
export type Input = Record<string, unknown>;

/** What one call passes in, read before it runs. */
export interface Inputs {
  packageName?: string | undefined;
  credentialUse?: number | undefined;
  credential?: ReadHandle;
  context?: ReadHandle;
  /** ISC/ASC: the token passed in (`SecBufferDesc.buffers[0]`). */
  token?: unknown;
}

/** How one of the addon's functions maps onto an SSPI function. */
export interface Mapping {
  /** The native function the addon calls: the `function` label and `createdBy`. */
  readonly native: string;
  readonly read: (args: unknown[]) => Inputs;
  /** The handle the call wrote, from its result. */
  readonly out?: (result: unknown) => ReadHandle;
}

const handleArg = (value: unknown): ReadHandle => (typeof value === 'string' && value !== '' ? value : value == null ? null : undefined);
const input = (args: unknown[]): Input => (typeof args[0] === 'object' && args[0] !== null ? (args[0] as Input) : {});
/** The first buffer of a `{ SecBufferDesc: { buffers: [ArrayBuffer] } }` input or result. */
export const tokenIn = (value: unknown): unknown => ((value as { SecBufferDesc?: { buffers?: unknown[] } } | undefined)?.SecBufferDesc?.buffers ?? [])[0];
const resultField = (field: string) => (result: unknown): ReadHandle =>
  typeof result === 'object' && result !== null ? writtenHandle((result as Input)[field]) : undefined;

/** A handle string the addon wrote; all zeros is the `{0, 0}` it starts from, i.e. nothing written. */
function writtenHandle(value: unknown): ReadHandle {
  if (typeof value !== 'string' || value === '') return undefined;
  return /^0x0+\.0x0+$/i.test(value) ? undefined : value;
}

function credentialUse(value: unknown): number | undefined {
  if (value === undefined) return 3;
  if (typeof value === 'string') return CREDENTIAL_USE[value];
  return typeof value === 'number' ? value : undefined;
}

export const MAPPINGS: Record<string, Mapping> = {
  AcquireCredentialsHandle: {
    native: 'AcquireCredentialsHandleW',
    read: (args) => {
      const i = input(args);
      return { packageName: typeof i.packageName === 'string' ? i.packageName : undefined, credentialUse: credentialUse(i.credentialUse) };
    },
    out: resultField('credential'),
  },
  InitializeSecurityContext: {
    native: 'InitializeSecurityContextW',
    read: (args) => {
      const i = input(args);
      // As the addon decides: a first call has no `contextHandle`, unless `isFirstCall` says otherwise.
      let first = !('contextHandle' in i);
      if (Object.hasOwn(i, 'isFirstCall')) first = Boolean(i.isFirstCall);
      return { credential: handleArg(i.credential), context: first ? null : handleArg(i.contextHandle), token: tokenIn(i) };
    },
    out: resultField('contextHandle'),
  },
  AcceptSecurityContext: {
    native: 'AcceptSecurityContext',
    read: (args) => {
      const i = input(args);
      return { credential: handleArg(i.credential), context: typeof i.contextHandle === 'string' ? handleArg(i.contextHandle) : null, token: tokenIn(i) };
    },
    out: resultField('contextHandle'),
  },
  DeleteSecurityContext: { native: 'DeleteSecurityContext', read: (args) => ({ context: handleArg(args[0]) }) },
  FreeCredentialsHandle: { native: 'FreeCredentialsHandle', read: (args) => ({ credential: handleArg(args[0]) }) },
  QueryContextAttributes: { native: 'QueryContextAttributesW', read: (args) => ({ context: handleArg(args[0]) }) },
  QuerySecurityContextToken: { native: 'QuerySecurityContextToken', read: (args) => ({ context: handleArg(args[0]) }) },
  ImpersonateSecurityContext: { native: 'ImpersonateSecurityContext', read: (args) => ({ context: handleArg(args[0]) }) },
  RevertSecurityContext: { native: 'RevertSecurityContext', read: (args) => ({ context: handleArg(args[0]) }) },
  QueryCredentialsAttributes: { native: 'QueryCredentialsAttributesW', read: (args) => ({ credential: handleArg(args[0]) }) },
  // The addon returns these packages' buffers itself: counted and timed only.
  EnumerateSecurityPackages: { native: 'EnumerateSecurityPackagesW', read: () => ({}) },
  QuerySecurityPackageInfo: {
    native: 'QuerySecurityPackageInfoW',
    read: (args) => ({ packageName: typeof args[0] === 'string' ? args[0] : undefined }),
  },
};

/** The SSPI_STATUS of a returned result: a name, `0x%08x`, or a decimal; SEC_E_OK when there is none. */
export function resultStatus(result: unknown): number {
  const value = typeof result === 'object' && result !== null ? (result as Input).SECURITY_STATUS : undefined;
  if (typeof value !== 'string') return SEC_E_OK;
  const named = statusCode(value);
  if (named !== undefined) return named;
  if (/^0x[0-9a-f]{1,8}$/i.test(value)) return Number.parseInt(value.slice(2), 16) | 0;
  if (/^-?\d+$/.test(value)) return Number(value) | 0;
  return SEC_E_OK;
}

/**
 * The status in one of the addon's errors, `(error code: 0x8009030c) …`; undefined when it names none
 * (the addon refused its arguments before calling SSPI).
 */
export function thrownStatus(err: unknown): number | undefined {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  const m = /error code: 0x([0-9a-f]{1,8})/i.exec(message);
  return m ? Number.parseInt(m[1]!, 16) | 0 : undefined;
}

/** The error the addon itself throws for a status, for a call the guard stops before it reaches SSPI. */
export function addonError(name: string, status: number): Error {
  const code = `(error code: 0x${(status >>> 0).toString(16).padStart(8, '0')}) ${statusName(status)}`;
  switch (name) {
    case 'DeleteSecurityContext':
      return new Error(`Cannot DeleteSecurityContext: secStatus: ${code}`);
    case 'FreeCredentialsHandle':
      return new Error(`FreeCredentialsHandle error = ${code}`);
    case 'AcceptSecurityContext':
      return new Error(`AcceptSecurityContext: SECURITY_STATUS incorrect (<0): ${code}`);
    case 'InitializeSecurityContext':
      return new Error(`Cannot InitializeSecurityContext: secStatus = ${code}`);
    default:
      return new Error(`${name}: secStatus = ${code}`);
  }
}
