/**
 * An SSPI handle (`CredHandle` / `CtxtHandle`: two ULONG_PTRs, `dwLower` then `dwUpper`) reaches a
 * koffi function in many shapes. Every shape gives the same identity (`core/handle-keys.ts`), whether
 * koffi hands the fields back as Number or BigInt.
 */
import { addressKey, handleKey, handleKeyOfBytes } from '../core/handle-keys.js';
import type { ReadHandle } from '../types.js';

/** Native memory as the koffi the app uses reads it (so no second FFI is ever loaded). */
export interface NativeMemory {
  /** `count` 64-bit words at `pointer` (a BigInt in koffi 3, an External in koffi 2). */
  words(pointer: unknown, count: number): readonly bigint[] | undefined;
  /** The address a pointer value stands for; 0n for NULL. */
  address(pointer: unknown): bigint | undefined;
  /** The 64-bit word at `pointer`, little-endian: one call, cheaper than `words(pointer, 1)`. */
  word(pointer: unknown): bigint | undefined;
  /** `count` bytes at `pointer`. */
  bytes(pointer: unknown, count: number): Uint8Array | undefined;
}

export type { ReadHandle } from '../types.js';

const HANDLE_BYTES = 16;

function fromBytes(view: ArrayBufferView | ArrayBuffer): ReadHandle {
  const bytes = view instanceof ArrayBuffer ? new DataView(view) : new DataView(view.buffer, view.byteOffset, view.byteLength);
  return bytes.byteLength < HANDLE_BYTES ? undefined : handleKeyOfBytes(bytes);
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
export function readHandle(arg: unknown, memory: NativeMemory): ReadHandle {
  if (isNullPointer(arg)) return null;
  if (Array.isArray(arg)) return arg.length > 0 ? readHandle(arg[0], memory) : undefined;
  if (ArrayBuffer.isView(arg) || arg instanceof ArrayBuffer) return fromBytes(arg);
  if (typeof arg === 'object' && arg !== null && isPlainObject(arg)) return fromStruct(arg as Record<string, unknown>);
  // A pointer: a BigInt (koffi 3) or an External (koffi 2). A Number is never one, and reading
  // through it would touch arbitrary memory.
  if (typeof arg === 'bigint' || typeof arg === 'object') return fromPointer(arg, memory);
  return undefined;
}

/**
 * The handle in a JS-owned `arg` (struct object, array, Buffer, typed array) — never through a
 * pointer, so it is safe to read even after a failed call, when a pointer out-param may be garbage.
 */
export function readOwnedHandle(arg: unknown, memory: NativeMemory): ReadHandle {
  return isOwnedShape(arg) ? readHandle(arg, memory) : undefined;
}

/** A struct object, an array holding one, a Buffer or typed array: memory the app's JS owns. */
export function isOwnedShape(arg: unknown): boolean {
  const held = Array.isArray(arg) ? arg[0] : arg;
  if (typeof held !== 'object' || held === null) return false;
  return ArrayBuffer.isView(held) || held instanceof ArrayBuffer || isPlainObject(held);
}

/** A struct object; koffi 2's External pointers have a null prototype and are pointers, not structs. */
function isPlainObject(value: object): boolean {
  return Object.getPrototypeOf(value) === Object.prototype;
}

/** `{dwLower, dwUpper}`, or a struct the app declared with other names: its two fields, in order. */
function fromStruct(struct: Record<string, unknown>): ReadHandle {
  if ('dwLower' in struct || 'dwUpper' in struct) return handleKey(struct.dwLower, struct.dwUpper);
  const values = Object.values(struct);
  return values.length === 2 ? handleKey(values[0], values[1]) : undefined;
}

function fromPointer(pointer: unknown, memory: NativeMemory): ReadHandle {
  try {
    const parts = memory.words(pointer, 2);
    return parts && parts.length >= 2 ? handleKey(parts[0], parts[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** A buffer's identity: its address (a Number, or an unsigned BigInt past 2^53); null for NULL. */
export function bufferKey(pointer: unknown, memory: NativeMemory): ReadHandle {
  if (isNullPointer(pointer)) return null;
  let address: bigint | undefined;
  try {
    address = typeof pointer === 'bigint' ? pointer : memory.address(pointer);
  } catch {
    // Not a pointer koffi can take the address of (a string, a plain object): no buffer of SSPI's.
    return undefined;
  }
  if (address === undefined) return undefined;
  return address === 0n ? null : addressKey(address);
}

function wordAt(view: ArrayBufferView, offset: number): bigint | undefined {
  if (view.byteLength < offset + 8) return undefined;
  return new DataView(view.buffer, view.byteOffset, view.byteLength).getBigUint64(offset, true);
}

/**
 * The pointer a `void **` out-param received: `[ptr]` (koffi fills the array), memory holding it
 * (Buffer, typed array), or a pointer to it.
 */
export function readPointerOut(arg: unknown, memory: NativeMemory): unknown {
  if (Array.isArray(arg)) return arg[0];
  if (ArrayBuffer.isView(arg)) return wordAt(arg, 0);
  if (isNullPointer(arg) || typeof arg === 'string') return undefined;
  return memory.words(arg, 1)?.[0];
}

/**
 * The pointer-sized `slots` of a result struct: an object koffi filled (its values in declaration
 * order), memory holding the struct, or a pointer to it. A slot koffi decoded as a string has lost
 * its pointer and is skipped.
 */
export function readStructPointers(arg: unknown, slots: readonly number[], memory: NativeMemory): unknown[] {
  if (isNullPointer(arg) || typeof arg !== 'object' && typeof arg !== 'bigint') return [];
  if (ArrayBuffer.isView(arg)) return slots.map((slot) => wordAt(arg, slot * 8));
  if (typeof arg === 'object' && arg !== null && !Array.isArray(arg) && isPlainObject(arg)) {
    const values = Object.values(arg as Record<string, unknown>);
    return slots.map((slot) => values[slot]).filter((v) => typeof v === 'bigint' || (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)));
  }
  const words = memory.words(arg, Math.max(...slots) + 1);
  return words ? slots.map((slot) => words[slot]) : [];
}

/** A SecBufferDesc's `cBuffers` and `pBuffers`: as an object koffi filled, as memory, or behind a pointer. */
function descBuffers(desc: unknown, memory: NativeMemory): [count: number, buffers: unknown] | undefined {
  if (isNullPointer(desc)) return undefined;
  let count: number | undefined;
  let buffers: unknown;
  if (ArrayBuffer.isView(desc)) {
    if (desc.byteLength < 16) return undefined;
    const view = new DataView(desc.buffer, desc.byteOffset, desc.byteLength);
    count = view.getUint32(4, true);
    buffers = view.getBigUint64(8, true);
  } else if (typeof desc === 'object' && desc !== null && 'pBuffers' in desc) {
    const d = desc as { cBuffers?: unknown; pBuffers?: unknown };
    count = Number(d.cBuffers);
    buffers = d.pBuffers;
  } else {
    const words = memory.words(desc, 2);
    if (!words) return undefined;
    count = Number(words[0]! >> 32n);
    buffers = words[1];
  }
  return count && Number.isInteger(count) && count <= 64 ? [count, buffers] : undefined;
}

/**
 * The `pvBuffer` of each SecBuffer in a SecBufferDesc (`{ulVersion, cBuffers, pBuffers}`) the call
 * filled; each SecBuffer is 16 bytes on x64, `pvBuffer` its second word.
 */
export function readSecBufferPointers(desc: unknown, memory: NativeMemory): unknown[] {
  const found = descBuffers(desc, memory);
  if (!found) return [];
  const [count, buffers] = found;
  if (Array.isArray(buffers)) return buffers.slice(0, count).map((b) => (b as { pvBuffer?: unknown })?.pvBuffer);
  if (ArrayBuffer.isView(buffers)) return Array.from({ length: count }, (_, i) => wordAt(buffers as ArrayBufferView, i * 16 + 8));
  const words = memory.words(buffers, count * 2);
  return words ? Array.from({ length: count }, (_, i) => words[i * 2 + 1]) : [];
}

/** One SecBuffer: its `cbBuffer`, and its `pvBuffer` (a pointer, or the JS bytes the app put there). */
export interface SecBufferView {
  readonly size: number;
  readonly data: unknown;
}

/** SECBUFFER_READONLY and SECBUFFER_READONLY_WITH_CHECKSUM: flags on BufferType, not types. */
const BUFFER_TYPE_MASK = 0x0fffffff;

/** The first SecBuffer of `type` in a SecBufferDesc. */
export function readSecBuffer(desc: unknown, type: number, memory: NativeMemory): SecBufferView | undefined {
  const found = descBuffers(desc, memory);
  if (!found) return undefined;
  const [count, buffers] = found;
  if (Array.isArray(buffers)) {
    for (const b of buffers.slice(0, count) as Array<{ cbBuffer?: unknown; BufferType?: unknown; pvBuffer?: unknown } | undefined>) {
      if ((Number(b?.BufferType) & BUFFER_TYPE_MASK) === type) return { size: Number(b!.cbBuffer), data: b!.pvBuffer };
    }
    return undefined;
  }
  if (ArrayBuffer.isView(buffers)) {
    // Buffer's own readers: a DataView per call costs more than the reads.
    const view = Buffer.isBuffer(buffers) ? buffers : Buffer.from(buffers.buffer, buffers.byteOffset, buffers.byteLength);
    for (let i = 0; i < count && (i + 1) * 16 <= view.length; i++) {
      if ((view.readUInt32LE(i * 16 + 4) & BUFFER_TYPE_MASK) === type) return { size: view.readUInt32LE(i * 16), data: view.readBigUInt64LE(i * 16 + 8) };
    }
    return undefined;
  }
  const words = memory.words(buffers, count * 2);
  for (let i = 0; words && i < count; i++) {
    if ((Number(words[i * 2]! >> 32n) & BUFFER_TYPE_MASK) === type) return { size: Number(words[i * 2]! & 0xffffffffn), data: words[i * 2 + 1] };
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
