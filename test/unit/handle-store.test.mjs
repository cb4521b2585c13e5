import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { HandleStore } from '../../dist/core/handle-store.js';
import { OVER_BUDGET } from '../../dist/core/stacks.js';

const TWO_32 = 2 ** 32;

setFlagsFromString('--allow-natives-syntax');
/** Whether V8 holds `value` as a small integer (in a field: no 16-byte heap number). */
const isSmallInteger = new Function('value', 'return %IsSmi(value)');

function opening(key, extra = {}) {
  return { kind: 'credential', key, package: 'NTLM', direction: 'outbound', createdBy: 'AcquireCredentialsHandleW', library: 'libwinpr2.so.2', ...extra };
}

/** Opens `key` and releases it at once: the store keeps the record for the guard. */
function openAndRelease(store, key, now = 1) {
  const record = store.add(opening(key), now);
  store.close(record, now + 1);
  store.remember(record, 'FreeCredentialsHandle', undefined, now + 1);
  return record;
}

describe('handle store', function () {
  it('gives every key back as it was given, in value and type', function () {
    const store = new HandleStore();
    const keys = [0, 1, 2 ** 31, TWO_32 - 1, TWO_32, 3 * 2 ** 48 + 2 ** 47 + 0x1234_5678, Number.MAX_SAFE_INTEGER, -1, -(2 ** 40) - 7, 1.5, 2 ** 60, 5n, (1n << 100n) + 3n, 'c1', '1'];
    const records = keys.map((key) => store.add(opening(key), 10));
    keys.forEach((key, i) => {
      assert.equal(typeof records[i].key, typeof key, `type of ${String(key)}`);
      assert.equal(records[i].key, key);
      // Each lookup of another key than the one before: the store's memory of the last one is no help.
      assert.equal(store.get('credential', key), records[i], `lookup of ${String(key)}`);
    });
    assert.equal(store.liveCount('credential'), keys.length);
    // A string key and a Number with the same text are different handles.
    assert.equal(store.get('credential', '1').key, '1');
    assert.equal(store.get('credential', 1).key, 1);
  });

  it('keeps values that share their low 32 bits apart, through every write order', function () {
    const store = new HandleStore();
    const low = 0x5555_0010;
    const [a, b, c] = [low, TWO_32 + low, 7 * TWO_32 + low];
    const ra = store.add(opening(a), 1);
    const rb = store.add(opening(b), 2);
    const rc = store.add(opening(c), 3);
    assert.equal(store.get('credential', a), ra);
    assert.equal(store.get('credential', b), rb);
    assert.equal(store.get('credential', c), rc);

    // The first one goes: its slot frees up while the other two still wait elsewhere.
    store.close(ra, 4);
    store.remember(ra, 'FreeCredentialsHandle', undefined, 4);
    store.forgetReleased('credential', a);
    assert.equal(store.get('credential', b), rb);
    assert.equal(store.get('credential', a), undefined);
    assert.equal(store.released('credential', a), undefined);

    // `b` is re-issued (its release was not seen): the new record replaces the old one where it is.
    const rb2 = store.add(opening(b), 5);
    assert.equal(store.get('credential', b), rb2);
    store.close(rb2, 6);
    store.remember(rb2, 'FreeCredentialsHandle', undefined, 6);
    store.forgetReleased('credential', b);
    assert.equal(store.get('credential', c), rc);
    assert.equal(store.get('credential', b), undefined, 'no older record of the value comes back');
    assert.equal(store.released('credential', b), undefined);

    // `a` again, then released: answered as released, and `c` untouched.
    const ra2 = store.add(opening(a), 7);
    assert.equal(store.get('credential', a), ra2);
    store.close(ra2, 8);
    store.remember(ra2, 'FreeCredentialsHandle', undefined, 8);
    assert.equal(store.released('credential', a), ra2);
    assert.equal(store.get('credential', a), undefined);
    assert.equal(store.get('credential', c), rc);
  });

  it('moves a record to its new value and forgets the old one', function () {
    const store = new HandleStore();
    const record = store.add(opening(TWO_32 + 9, { kind: 'context' }), 1);
    store.rekey(record, 2 * TWO_32 + 9);
    assert.equal(record.key, 2 * TWO_32 + 9);
    assert.equal(store.get('context', TWO_32 + 9), undefined);
    assert.equal(store.get('context', 2 * TWO_32 + 9), record);
  });

  it('answers a released value as released until it is re-issued, and lets the re-issue live', function () {
    const store = new HandleStore();
    const key = 3 * 2 ** 48 + 2 ** 47 - 4096;
    const first = openAndRelease(store, key);
    assert.equal(store.released('credential', key), first);
    assert.equal(first.releasedBy, 'FreeCredentialsHandle');
    assert.equal(first.releasedAt, 2);
    const second = store.add(opening(key), 3);
    assert.equal(store.get('credential', key), second);
    assert.equal(store.released('credential', key), undefined);
    assert.equal(first.releasedBy, 'FreeCredentialsHandle', 'the first record still says how it ended');
  });

  it('keeps a creation time to the nanosecond', function () {
    const store = new HandleStore();
    const DAY = 86_400_000;
    for (const at of [0, 0.000001, 1.9999999, 123456.789012, DAY * 25 + 0.25, DAY * 30 + 0.5, DAY * 103.9 + 0.123456]) {
      const record = store.add(opening(Math.round(at * 1000) + 1), at);
      assert.ok(Math.abs(record.createdAt - at) <= 1e-6, `${record.createdAt} for ${at}`);
    }
  });

  it('holds no double in a record: each number it keeps is a small integer, for any key and time a process reaches', function () {
    const store = new HandleStore();
    const DAY = 86_400_000;
    const keys = [0, 2 ** 31, TWO_32 - 1, 3 * 2 ** 48 + 2 ** 47 + 0x7654_3210, Number.MAX_SAFE_INTEGER];
    const times = [0.5, DAY * 24.9 + 0.1, DAY * 25, DAY * 200 + 0.75, DAY * 365 * 3];
    for (const key of keys) {
      for (const at of times) {
        const record = store.add(opening(key), at);
        for (const field of ['id', 'keyHigh', 'keyLow', 'bornHigh', 'bornLow']) {
          assert.equal(typeof record[field], 'number', field);
          assert.ok(isSmallInteger(record[field]), `${field} = ${record[field]} for key ${key} at ${at} ms`);
        }
      }
    }
  });

  it("keeps a handle's own site, its class's shared one, and both through details made later", function () {
    const store = new HandleStore();
    const site = { frames: () => ['at app (/app.js:1:1)'] };
    const own = store.add(opening(1, { site }), 1);
    const over = store.add(opening(2, { site: OVER_BUDGET }), 1);
    const none = store.add(opening(3), 1);
    assert.equal(own.site, site);
    assert.equal(over.site, OVER_BUDGET);
    assert.equal(none.site, undefined);
    for (const record of [own, over, none]) {
      assert.equal(record.details, undefined, 'a credential has no details until something is written');
      record.more().collected = true;
      assert.equal(record.collected, true);
      assert.equal(record.package, 'NTLM');
      assert.equal(record.createdBy, 'AcquireCredentialsHandleW');
    }
    assert.deepEqual([own.site, over.site, none.site], [site, OVER_BUDGET, undefined]);
  });
});
