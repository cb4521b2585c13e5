import assert from 'node:assert/strict';
import { handsOutBuffers, rowEffect } from '../../dist/core/log/row-effect.js';
import { sspiFunction } from '../../dist/sspi/functions.js';

const OK = 0;
const FAILED = -2146893044; // SEC_E_LOGON_DENIED

const effect = (name, status) => {
  const e = rowEffect(sspiFunction(name), status);
  return e && { kind: e.kind, releases: e.releases, column: e.column };
};

describe('what a logged call does to the values the guard asks about', function () {
  it('a release releases the value in its own kind’s column, whatever its status', function () {
    for (const status of [OK, FAILED]) {
      assert.deepEqual(effect('FreeCredentialsHandle', status), { kind: 'credential', releases: true, column: 'credential' });
      assert.deepEqual(effect('DeleteSecurityContext', status), { kind: 'context', releases: true, column: 'context' });
      assert.deepEqual(effect('FreeContextBuffer', status), { kind: 'buffer', releases: true, column: 'buffer' });
      assert.equal(handsOutBuffers(sspiFunction('FreeContextBuffer'), status), false);
    }
  });

  it('a call that makes a handle hands out what it wrote: its out-param when it succeeded, what a failure wrote all the same otherwise', function () {
    assert.deepEqual(effect('AcquireCredentialsHandleW', OK), { kind: 'credential', releases: false, column: 'out' });
    assert.deepEqual(effect('AcquireCredentialsHandleW', FAILED), { kind: 'credential', releases: false, column: 'failedOut' });
    for (const name of ['InitializeSecurityContextW', 'AcceptSecurityContext', 'ImportSecurityContextW']) {
      assert.deepEqual(effect(name, OK), { kind: 'context', releases: false, column: 'out' }, name);
      assert.deepEqual(effect(name, FAILED), { kind: 'context', releases: false, column: 'failedOut' }, name);
    }
  });

  it('buffers are handed out by a successful call that releases nothing; other calls touch no single value', function () {
    const query = sspiFunction('QuerySecurityPackageInfoW');
    assert.equal(rowEffect(query, OK), undefined);
    assert.equal(handsOutBuffers(query, OK), true);
    assert.equal(handsOutBuffers(query, FAILED), false);
    assert.equal(handsOutBuffers(sspiFunction('AcceptSecurityContext'), OK), true);
  });
});
