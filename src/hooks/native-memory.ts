/**
 * Native memory read through the app's own koffi, so that no second FFI is ever loaded. koffi 3
 * takes a BigInt address wherever it takes a pointer; koffi 2's `decode` wants an External (or a
 * TypedArray) and throws on a BigInt. The addresses the agent finds in the app's JS memory (a
 * SecBuffer's `pvBuffer` in a Buffer, a SecBufferDesc's `pBuffers`) are BigInts whatever koffi the
 * app has: under koffi 2 each becomes an External first.
 */
import type { NativeMemory } from './handle-shapes.js';

/** The parts of a koffi module native memory is read with. */
export interface KoffiMemoryModule {
  decode?: ((...args: unknown[]) => unknown) & { ulonglong?: (pointer: unknown) => unknown };
  address?: (...args: unknown[]) => unknown;
  default?: KoffiMemoryModule;
}

type Decode = NonNullable<KoffiMemoryModule['decode']>;

const isNull = (pointer: unknown): boolean => pointer === null || pointer === undefined || pointer === 0n || pointer === 0;

/**
 * What `decode` can be handed for `pointer`: the pointer itself, or, where this koffi's `decode`
 * refuses BigInt addresses (koffi 2), an External made from it by decoding its 8 bytes as `void *`.
 * Whether it refuses them is found once, on the first BigInt, from a read of the agent's own memory.
 */
function pointerArgument(decode: Decode, address: unknown): (pointer: unknown) => unknown {
  let converts: boolean | undefined;
  const cell = Buffer.alloc(8);
  return (pointer) => {
    if (typeof pointer !== 'bigint') return pointer;
    converts ??= !decodesAddresses(decode, address);
    if (!converts) return pointer;
    cell.writeBigUInt64LE(BigInt.asUintN(64, pointer));
    return decode(cell, 'void *');
  };
}

function decodesAddresses(decode: Decode, address: unknown): boolean {
  if (typeof address !== 'function') return false;
  const probe = Buffer.from([0x5a]);
  try {
    return decode(address(probe), 'uint8_t') === 0x5a;
  } catch {
    return false;
  }
}

export function nativeMemory(mod: KoffiMemoryModule): NativeMemory {
  const decode = mod.decode ?? mod.default?.decode;
  const address = mod.address ?? mod.default?.address;
  if (typeof decode !== 'function') return { words: () => undefined, word: () => undefined, bytes: () => undefined, address: (p) => (typeof p === 'bigint' ? p : undefined) };
  const pointerOf = pointerArgument(decode, address);
  // koffi 3's typed shortcut skips parsing the type name: about half the cost.
  const ulonglong = typeof decode.ulonglong === 'function' ? decode.ulonglong : undefined;
  return {
    words(pointer, count) {
      const words = decode(pointerOf(pointer), 'uint64_t', count) as ArrayLike<bigint | number> | undefined;
      return words ? Array.from(words, (w) => BigInt(w)) : undefined;
    },
    word(pointer) {
      if (isNull(pointer)) return undefined;
      const word = (ulonglong ? ulonglong(pointer) : decode(pointerOf(pointer), 'uint64_t')) as bigint | number | undefined;
      return word === undefined ? undefined : BigInt.asUintN(64, BigInt(word));
    },
    bytes(pointer, count) {
      if (isNull(pointer)) return undefined;
      const bytes = decode(pointerOf(pointer), 'uint8_t', count) as ArrayLike<number> | undefined;
      return bytes instanceof Uint8Array ? bytes : bytes ? Uint8Array.from(bytes) : undefined;
    },
    address(pointer) {
      if (typeof pointer === 'bigint') return pointer;
      if (typeof address !== 'function') return undefined;
      const a = address(pointer);
      return typeof a === 'bigint' ? a : typeof a === 'number' ? BigInt(a) : undefined;
    },
  };
}
