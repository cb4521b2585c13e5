import assert from 'node:assert/strict';
import * as status from '../../dist/sspi/status.js';
import { statusCode, statusName } from '../../dist/sspi/status-names.js';

const { toStatus } = status;
import { packageLabel } from '../../dist/sspi/packages.js';
import { providerMatcher } from '../../dist/sspi/libraries.js';
import { sspiFunction, sspiFunctionById } from '../../dist/sspi/functions.js';
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)');

describe('SSPI tables', function () {
  it('names statuses however the return type was declared', function () {
    assert.equal(statusName(toStatus(0x8009030c)), 'SEC_E_LOGON_DENIED');
    assert.equal(statusName(toStatus(0x8009030c | 0)), 'SEC_E_LOGON_DENIED');
    assert.equal(statusName(toStatus(0x8009030cn)), 'SEC_E_LOGON_DENIED');
    assert.equal(statusName(0x00090312), 'SEC_I_CONTINUE_NEEDED');
    assert.equal(statusName(toStatus(0xdead0001)), '0xdead0001');
  });

  it('gives the statuses the logic tests for the codes the table names them by', function () {
    const constants = Object.entries(status).filter(([name]) => /^SEC_[EI]_/.test(name));
    assert.ok(constants.length >= 6);
    for (const [name, code] of constants) assert.equal(code, statusCode(name), name);
  });

  it('names the NTSTATUS values packages return through SSPI (Kerberos: STATUS_UNSUCCESSFUL from AcquireCredentialsHandle)', function () {
    assert.equal(statusName(toStatus(0xc0000001)), 'STATUS_UNSUCCESSFUL');
    assert.equal(statusName(toStatus(0xc000006dn)), 'STATUS_LOGON_FAILURE');
    assert.equal(statusName(0xc0000234 | 0), 'STATUS_ACCOUNT_LOCKED_OUT');
  });

  it('collapses unknown package names into other', function () {
    assert.equal(packageLabel('ntlm'), 'NTLM');
    assert.equal(packageLabel('Microsoft Unified Security Protocol Provider'), 'Schannel');
    assert.equal(packageLabel('evil\n{label="x"}'), 'other');
    assert.equal(packageLabel(undefined), 'other');
  });

  it('matches provider libraries by file name, pattern and absolute path', function () {
    const messages = [];
    const m = providerMatcher(['libcustom-sspi*.so', '/opt/nowhere/libsspi.so', 'relative/lib.so'], (s) => messages.push(s));
    assert.equal(m.match('C:\\Windows\\System32\\SECUR32.DLL'), 'secur32.dll');
    assert.equal(m.match('/usr/lib/x86_64-linux-gnu/libwinpr2.so.2'), 'libwinpr2.so.2');
    assert.equal(m.match('libwinpr3.so.3'), 'libwinpr3.so.3');
    assert.equal(m.match('/x/libcustom-sspi-1.so'), 'libcustom-sspi-1.so');
    assert.equal(m.match('/opt/nowhere/libsspi.so'), 'libsspi.so');
    assert.equal(m.match('libc.so.6'), undefined);
    assert.equal(m.match(undefined), undefined);
    assert.equal(messages.length, 2);
    assert.match(messages[0], /\/opt\/nowhere\/libsspi\.so, which does not exist/);
    assert.match(messages[1], /relative\/lib\.so is neither a file name nor an absolute path/);
  });

  it('gives every function record the same fields in the same order (one shape for the hot path)', function () {
    const keys = Object.keys(sspiFunctionById(0)).join();
    for (let id = 0; sspiFunctionById(id) !== undefined; id++) assert.equal(Object.keys(sspiFunctionById(id)).join(), keys, sspiFunctionById(id).name);
    assert.ok(haveSameMap(sspiFunction('AcquireCredentialsHandleW'), sspiFunction('FreeContextBuffer')), 'one hidden class');
  });

  it('knows where each lifecycle function keeps its handles', function () {
    const { id, ...fields } = sspiFunction('InitializeSecurityContextW');
    assert.equal(sspiFunctionById(id), sspiFunction('InitializeSecurityContextW'), 'found again by its id');
    const isc = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    assert.deepEqual(
      isc,
      { name: 'InitializeSecurityContextW', wide: true, role: 'init-context', credentialArg: 0, contextArg: 1, outHandleArg: 8, contextReqArg: 3, outputArg: 9, inputArg: 6 },
    );
    assert.equal(sspiFunction('AcceptSecurityContext').outHandleArg, 5);
    assert.equal(sspiFunction('AcceptSecurityContext').inputArg, 2);
    assert.equal(sspiFunction('AcquireCredentialsHandleA').wide, false);
    assert.equal(sspiFunction('GetProcAddress'), undefined);
  });
});
