/**
 * The SECURITY_STATUS values the agent's logic tests for, and how a returned value reads as one. Their
 * names, for labels and reports, are in status-names.ts: a table the start does not need.
 */

export const SEC_E_OK = 0;
export const SEC_I_CONTINUE_NEEDED = 0x00090312;
export const SEC_I_COMPLETE_NEEDED = 0x00090313;
export const SEC_I_COMPLETE_AND_CONTINUE = 0x00090314;
export const SEC_E_INVALID_HANDLE = 0x80090301 | 0;
export const SEC_E_INTERNAL_ERROR = 0x80090304 | 0;

/** A SECURITY_STATUS as a signed 32-bit number, however the app declared the return type. */
export function toStatus(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value | 0 : undefined;
  if (typeof value === 'bigint') return Number(BigInt.asIntN(32, value));
  return undefined;
}

/** A success or informational status: `SEC_E_OK` or any `SEC_I_*`. */
export function isSuccess(status: number): boolean {
  return status >= 0;
}
