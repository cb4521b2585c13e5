/**
 * An SSPI handle (`CredHandle` / `CtxtHandle`: two ULONG_PTRs, `dwLower` then `dwUpper`) reaches a
 * koffi function in many shapes. Every shape gives the same identity, whether koffi hands the fields
 * back as Number or BigInt.
 */
import type { HandleKey } from '../types.js';

/** Reads 16 bytes of native memory behind a pointer; supplied by the koffi the app uses. */
export type PointerReader = (pointer: unknown) => readonly [bigint | number, bigint | number] | undefined;

/** `null`: the app passed NULL (no handle). `undefined`: a shape the agent cannot read. */
export type ReadHandle = HandleKey | null | undefined;

const HANDLE_BYTES = 16;

function part(value: unknown): string | undefined {
  if (typeof value === 'bigint') return BigInt.asUintN(64, value).toString();
  if (typeof value === 'number' && Number.isInteger(value)) {
    return value >= 0 && value <= Number.MAX_SAFE_INTEGER ? String(value) : BigInt.asUintN(64, BigInt(value)).toString();
  }
  return undefined;
}

export function handleKey(lower: unknown, upper: unknown): HandleKey | undefined {
  const l = part(lower);
  const u = part(upper);
  return l === undefined || u === undefined ? undefined : `${l}.${u}`;
}

function fromBytes(view: ArrayBufferView | ArrayBuffer): ReadHandle {
  const bytes = view instanceof ArrayBuffer ? new DataView(view) : new DataView(view.buffer, view.byteOffset, view.byteLength);
  if (bytes.byteLength < HANDLE_BYTES) return undefined;
  return handleKey(bytes.getBigUint64(0, true), bytes.getBigUint64(8, true));
}

function isNullPointer(value: unknown): boolean {
  return value === null || value === undefined || value === 0 || value === 0n;
}

/**
 * The handle in `arg`: a `{dwLower, dwUpper}` object, a one-element array holding one, a Buffer or
 * typed array of at least 16 bytes, or a pointer (BigInt in koffi 3, an External in koffi 2) read
 * through `readPointer`. A struct whose fields are not set yet (an out-param before the call) reads
 * as undefined.
 */
export function readHandle(arg: unknown, readPointer: PointerReader): ReadHandle {
  if (isNullPointer(arg)) return null;
  if (Array.isArray(arg)) return arg.length > 0 ? readHandle(arg[0], readPointer) : undefined;
  if (ArrayBuffer.isView(arg) || arg instanceof ArrayBuffer) return fromBytes(arg);
  if (typeof arg === 'object') {
    const struct = arg as { dwLower?: unknown; dwUpper?: unknown };
    if ('dwLower' in struct || 'dwUpper' in struct) return handleKey(struct.dwLower, struct.dwUpper);
  }
  if (typeof arg === 'bigint' || typeof arg === 'number' || typeof arg === 'object') {
    const parts = readPointer(arg);
    return parts ? handleKey(parts[0], parts[1]) : undefined;
  }
  return undefined;
}

/** A `const char *` / `const wchar_t *` argument as text: a JS string, or a NUL-terminated Buffer. */
export function readString(arg: unknown, wide: boolean): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof Uint8Array) {
    const text = Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength).toString(wide ? 'utf16le' : 'latin1');
    const end = text.indexOf('\0');
    return end >= 0 ? text.slice(0, end) : text;
  }
  return undefined;
}
