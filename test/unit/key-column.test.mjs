import assert from 'node:assert/strict';
import { KeyColumn } from '../../dist/core/log/key-column.js';

describe('a call-log column of handle keys', function () {
  it('gives back each key as it was set, NULL and unreadable apart from any key', function () {
    const keys = [0, 1, 2 ** 52, Number.MAX_SAFE_INTEGER, -1, -2, -3, -(2 ** 40), 5n, 'c1', null, undefined];
    const column = new KeyColumn(keys.length);
    keys.forEach((key, row) => column.set(row, key));
    keys.forEach((key, row) => {
      assert.equal(column.get(row), key, `row ${row}`);
      for (const other of keys) {
        const same = other === key && other !== null && other !== undefined;
        assert.equal(column.equals(row, other), same, `row ${row} (${String(key)}) against ${String(other)}`);
      }
    });
    column.clear(keys.length);
    keys.forEach((_, row) => assert.equal(column.get(row), undefined));
  });
});
