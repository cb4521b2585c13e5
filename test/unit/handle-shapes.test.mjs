import assert from 'node:assert/strict';
import { readHandle, readString } from '../../dist/hooks/handle-shapes.js';
import { handleKey, handleWords, isZeroKey } from '../../dist/core/handle-keys.js';

const noPointers = {
  words() {
    throw new Error('no pointer expected');
  },
  address() {
    throw new Error('no pointer expected');
  },
};
const memoryWith = (words) => ({ words: (p, n) => words(p, n), address: (p) => p });

describe('handle shapes', function () {
  const lower = 0xfffffffff71bcb3fn;
  const upper = 0xffff80e9d3ba6e7en;
  const key = handleKey(lower, upper);

  it('gives Number and BigInt fields the same identity', function () {
    assert.equal(handleKey(5, 7), handleKey(5n, 7n));
    assert.equal(readHandle({ dwLower: 5, dwUpper: 7 }, noPointers), readHandle({ dwLower: 5n, dwUpper: 7n }, noPointers));
  });

  it('reads a struct the app declared with other field names by field order', function () {
    assert.equal(readHandle({ lower, upper }, noPointers), key);
    assert.equal(readHandle({ a: 1, b: 2, c: 3 }, noPointers), undefined);
  });

  it('reads objects, arrays, buffers and typed arrays alike', function () {
    const buf = Buffer.alloc(16);
    buf.writeBigUInt64LE(lower, 0);
    buf.writeBigUInt64LE(upper, 8);
    const shifted = new Uint8Array(new ArrayBuffer(40), 24, 16);
    shifted.set(buf);
    assert.equal(readHandle({ dwLower: lower, dwUpper: upper }, noPointers), key);
    assert.equal(readHandle([{ dwLower: lower, dwUpper: upper }], noPointers), key);
    assert.equal(readHandle(buf, noPointers), key);
    assert.equal(readHandle(new BigUint64Array([lower, upper]), noPointers), key);
    assert.equal(readHandle(shifted, noPointers), key);
  });

  it('reads a pointer through the supplied reader', function () {
    assert.equal(readHandle(1234n, memoryWith((p, n) => (p === 1234n && n === 2 ? [lower, upper] : undefined))), key);
  });

  it('tells NULL apart from shapes it cannot read', function () {
    for (const nothing of [null, undefined, 0, 0n]) assert.equal(readHandle(nothing, noPointers), null);
    assert.equal(readHandle(Buffer.alloc(8), noPointers), undefined, 'too short to be a handle');
    assert.equal(readHandle({}, noPointers), undefined, 'an unfilled out-struct');
    assert.equal(readHandle('0x1.0x2', noPointers), undefined);
    assert.equal(readHandle(12345, noPointers), undefined, 'a Number is never read as a pointer');
    assert.equal(readHandle(99n, memoryWith(() => { throw new TypeError('bad pointer'); })), undefined);
  });

  it('reads package names from strings and NUL-terminated buffers', function () {
    assert.equal(readString('NTLM', true), 'NTLM');
    assert.equal(readString(Buffer.from('Kerberos\0junk', 'latin1'), false), 'Kerberos');
    assert.equal(readString(Buffer.from('Negotiate\0', 'utf16le'), true), 'Negotiate');
    assert.equal(readString(42, true), undefined);
  });

  describe('packed keys', function () {
    it('packs a user-space address and a known upper word into one Number, and gives the words back', function () {
      const key = handleKey(0x55d4c3a0e2b0, 0x7f3a1c004d20);
      assert.equal(typeof key, 'number');
      assert.ok(Number.isSafeInteger(key));
      assert.deepEqual(handleWords(key), [0x55d4c3a0e2b0n, 0x7f3a1c004d20n]);
      assert.equal(handleKey(0x55d4c3a0e2b0n, 0x7f3a1c004d20n), key, 'BigInt fields, same key');
      const bytes = Buffer.alloc(16);
      bytes.writeBigUInt64LE(0x55d4c3a0e2b0n, 0);
      bytes.writeBigUInt64LE(0x7f3a1c004d20n, 8);
      assert.equal(readHandle(bytes, noPointers), key, 'memory, same key');
    });

    it('tells pairs apart that differ in either word', function () {
      const a = handleKey(0x1000, 0x2000);
      assert.notEqual(handleKey(0x1001, 0x2000), a);
      assert.notEqual(handleKey(0x1000, 0x2001), a);
      assert.notEqual(handleKey(0x2000, 0x1000), a);
    });

    it('packs WinPR\'s words (the complement of an address) as well', function () {
      const key = handleKey(0xfffffffff123ed7fn, 0xffff80fa3fc0de7en);
      assert.equal(typeof key, 'number');
      assert.deepEqual(handleWords(key), [0xfffffffff123ed7fn, 0xffff80fa3fc0de7en]);
      assert.notEqual(handleKey(0xfffffffff123ed7en, 0xffff80fa3fc0de7en), key);
    });

    it('knows the all-zero handle, and keeps a lower word past 2^47 as the 128-bit BigInt', function () {
      assert.ok(isZeroKey(handleKey(0, 0)));
      assert.ok(isZeroKey(handleKey(0n, 0n)));
      assert.ok(!isZeroKey(handleKey(1, 0)));
      const high = handleKey(2 ** 47, 5);
      assert.equal(high, (5n << 64n) | (1n << 47n));
      assert.deepEqual(handleWords(high), [1n << 47n, 5n]);
      assert.equal(typeof handleKey(0x8000000000000000n, 5), 'bigint');
    });

    it('packs a word only while it is exact as a Number, the last words read again included', function () {
      const edge = 2n ** 53n;
      for (const upper of [edge - 1n, edge, edge + 1n, -(edge - 1n), -edge, -(edge + 1n)]) {
        const word = BigInt.asUintN(64, upper);
        const key = handleKey(7n, word);
        assert.deepEqual(handleWords(key), [7n, word], `upper word ${upper}`);
        assert.equal(handleKey(7n, word), key, 'read again: the same key');
      }
      assert.notEqual(handleKey(7n, edge), handleKey(7n, edge + 1n));
      assert.notEqual(handleKey(7n, BigInt.asUintN(64, -edge)), handleKey(7n, BigInt.asUintN(64, -edge - 1n)));
      assert.equal(handleKey(7n, edge - 1n), handleKey(7, Number(edge - 1n)), 'a BigInt word and its Number alike');
    });

    it('stops packing new upper words after 32 of them, and keeps each pair\'s form', function () {
      const first = Array.from({ length: 80 }, (_, i) => handleKey(0x4000 + i, 0x900000 + i));
      const again = Array.from({ length: 80 }, (_, i) => handleKey(0x4000 + i, 0x900000 + i));
      assert.deepEqual(again, first, 'the same pair, the same key');
      assert.ok(first.some((k) => typeof k === 'bigint'), 'past the limit: BigInt');
      for (const [i, key] of first.entries()) assert.deepEqual(handleWords(key), [BigInt(0x4000 + i), BigInt(0x900000 + i)]);
    });
  });
});
