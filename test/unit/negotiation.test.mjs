import assert from 'node:assert/strict';
import { classifyToken } from '../../dist/sspi/negotiation-tokens.js';
import { tokenVerdict } from '../../dist/hooks/token-reader.js';
import { applyCall } from '../../dist/core/lifecycle.js';
import { HandleRegistry } from '../../dist/core/registry.js';
import { sspiFunction } from '../../dist/sspi/functions.js';
import { buildLeakReport, formatLeakReport } from '../../dist/exporters/leak-report.js';

// Token prefixes as Wine's secur32 sent them (test/windows/kerberos.wine.mjs runs the real ones).
const AP_REQ = Buffer.from('608202ba06092a864886f71201020201006e8202a9308202a5a003020105a10302010ea2070305002000', 'hex');
const AP_REP = Buffer.from('60819906092a864886f71201020202006f8189308186a003020105a10302010fa27a3078a003020112', 'hex');
const NTLM_NEGOTIATE = Buffer.from('4e544c4d53535000010000000582086200000000280000000000000028000000', 'hex');

// SPNEGO as Windows wraps Negotiate's tokens (RFC 4178), built here: Wine sends none.
const der = (tag, ...parts) => {
  const body = Buffer.concat(parts);
  const length = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
};
const oid = (hex) => der(0x06, Buffer.from(hex, 'hex'));
const OIDS = { spnego: '2b0601050502', msKerberos: '2a864882f712010202', kerberos: '2a864886f712010202', ntlm: '2b06010401823702020a' };
const negTokenInit = (...mechs) =>
  der(0x60, oid(OIDS.spnego), der(0xa0, der(0x30, der(0xa0, der(0x30, ...mechs.map((m) => oid(OIDS[m])))), der(0xa2, der(0x04, Buffer.alloc(200))))));
const negTokenResp = (mech) => der(0xa1, der(0x30, der(0xa0, der(0x0a, Buffer.from([1]))), ...(mech ? [der(0xa1, oid(OIDS[mech]))] : []), der(0xa2, der(0x04, Buffer.alloc(150)))));

describe('the package behind Negotiate, from its tokens', function () {
  it('reads raw Kerberos and NTLM tokens (Wine) as settled', function () {
    assert.deepEqual(classifyToken(AP_REQ), { pkg: 'Kerberos', settled: true });
    assert.deepEqual(classifyToken(AP_REP), { pkg: 'Kerberos', settled: true });
    assert.deepEqual(classifyToken(NTLM_NEGOTIATE), { pkg: 'NTLM', settled: true });
  });

  it("reads SPNEGO: the client's first proposal, settled by the server's supportedMech", function () {
    assert.deepEqual(classifyToken(negTokenInit('msKerberos', 'kerberos', 'ntlm').subarray(0, 64)), { pkg: 'Kerberos', settled: false });
    assert.deepEqual(classifyToken(negTokenInit('ntlm').subarray(0, 64)), { pkg: 'NTLM', settled: false });
    assert.deepEqual(classifyToken(negTokenResp('ntlm').subarray(0, 64)), { pkg: 'NTLM', settled: true });
    assert.deepEqual(classifyToken(negTokenResp('msKerberos').subarray(0, 64)), { pkg: 'Kerberos', settled: true });
    assert.equal(classifyToken(negTokenResp(undefined).subarray(0, 64)), undefined, 'a later NegTokenResp names no mechanism');
  });

  it('says nothing of tokens it does not know, or of a prefix too short', function () {
    for (const token of [Buffer.alloc(64), Buffer.from('605006'), AP_REQ.subarray(0, 10), Buffer.from('TLS\x16\x03\x01hello world'), Buffer.alloc(0)]) {
      assert.equal(classifyToken(token), undefined, token.toString('hex'));
    }
  });

  it('reads a token behind a pointer with one 8-byte read when it is not GSS-framed, and never reads a failed call', function () {
    const reads = [];
    const memoryOf = (token) => ({
      words: () => undefined,
      address: (p) => p,
      word: (p) => (reads.push('word'), token.readBigUInt64LE(0)),
      bytes: (p, n) => (reads.push(`bytes ${n}`), new Uint8Array(token.subarray(0, n))),
    });
    // pBuffers as memory: one SecBuffer { cbBuffer, BufferType = SECBUFFER_TOKEN, pvBuffer }.
    const desc = (size) => {
      const secBuffer = Buffer.alloc(16);
      secBuffer.writeUInt32LE(size, 0);
      secBuffer.writeUInt32LE(2, 4);
      secBuffer.writeBigUInt64LE(0x1000n, 8);
      return { ulVersion: 0, cBuffers: 1, pBuffers: secBuffer };
    };
    const isc = sspiFunction('InitializeSecurityContextW');
    const args = (output) => [null, null, 'HTTP/x', 0, 0, 0x10, null, 0, {}, output, [0], {}];
    assert.equal(tokenVerdict(isc, args(desc(NTLM_NEGOTIATE.length)), memoryOf(NTLM_NEGOTIATE)).pkg, 'NTLM');
    assert.deepEqual(reads.splice(0), ['word']);
    assert.equal(tokenVerdict(isc, args(desc(AP_REQ.length)), memoryOf(AP_REQ)).pkg, 'Kerberos');
    assert.deepEqual(reads.splice(0), ['word', `bytes ${AP_REQ.length}`]);
    assert.equal(tokenVerdict(isc, args(desc(40)), memoryOf(Buffer.from('0123456789abcdef0123456789abcdef01234567'))), undefined);
    assert.deepEqual(reads.splice(0), ['word']);
    // A JS-held token is read in JS.
    const jsDesc = { cBuffers: 1, pBuffers: [{ cbBuffer: AP_REQ.length, BufferType: 2, pvBuffer: AP_REQ }] };
    assert.equal(tokenVerdict(isc, args(jsDesc), memoryOf(Buffer.alloc(8))).pkg, 'Kerberos');
    assert.deepEqual(reads, []);
  });
});

const PROVIDER = { library: 'secur32.dll', releasers: {} };
const fn = (name) => sspiFunction(name);
const SEC_I_CONTINUE_NEEDED = 0x00090312;
const SEC_E_LOGON_DENIED = 0x8009030c | 0;
const verdict = (pkg, settled = true) => ({ pkg, settled });

/** A registry with one credential of `pkg`, and what its listeners heard of negotiations. */
function setUp(pkg = 'Negotiate') {
  const registry = new HandleRegistry();
  const heard = [];
  registry.subscribe({ onNegotiated: (h, negotiated) => heard.push(`${h.direction} ${negotiated}`) });
  applyCall(registry, { fn: fn('AcquireCredentialsHandleW'), provider: PROVIDER, status: 0, durationSeconds: 0, packageName: pkg, credentialUse: 2, outHandle: 1n });
  let next = 100n;
  const call = (name, context, status, tokenVerdict) => {
    const out = context ?? next++;
    applyCall(registry, { fn: fn(name), provider: PROVIDER, status, durationSeconds: 0, credential: 1n, context, outHandle: out, tokenVerdict });
    return out;
  };
  return { registry, heard, call };
}

describe('negotiated package of Negotiate contexts', function () {
  it('settles a Kerberos handshake once, at its first token', function () {
    const { registry, heard, call } = setUp();
    const client = call('InitializeSecurityContextW', null, SEC_I_CONTINUE_NEEDED, verdict('Kerberos'));
    call('InitializeSecurityContextW', client, 0, verdict('Kerberos'));
    call('DeleteSecurityContext', client, 0);
    assert.deepEqual(heard, ['outbound Kerberos']);
    assert.equal(registry.settled().liveCount('context'), 0);
  });

  it('counts a fallback to NTLM, also when the login then fails', function () {
    const { heard, call } = setUp();
    const client = call('InitializeSecurityContextW', null, SEC_I_CONTINUE_NEEDED, verdict('NTLM'));
    const server = call('AcceptSecurityContext', null, SEC_I_CONTINUE_NEEDED, verdict('NTLM'));
    call('InitializeSecurityContextW', client, 0, verdict('NTLM'));
    call('AcceptSecurityContext', server, SEC_E_LOGON_DENIED);
    assert.deepEqual(heard, ['outbound NTLM', 'inbound NTLM']);
  });

  it("lets SPNEGO's supportedMech overrule the client's proposal", function () {
    const { registry, heard, call } = setUp();
    const client = call('InitializeSecurityContextW', null, SEC_I_CONTINUE_NEEDED, verdict('Kerberos', false));
    assert.deepEqual(heard, [], 'a proposal is not yet a fact');
    // Nor is it what a leak report says the context ran: the server may still pick another package.
    const midway = buildLeakReport(registry.settled().liveHandles(), 'exit').handles.filter((h) => h.kind === 'context');
    assert.deepEqual(midway.map((h) => h.negotiated), ['unknown']);
    call('InitializeSecurityContextW', client, SEC_I_CONTINUE_NEEDED, verdict('NTLM'));
    assert.deepEqual(heard, ['outbound NTLM']);
    assert.deepEqual(buildLeakReport(registry.settled().liveHandles(), 'exit').handles.filter((h) => h.kind === 'context').map((h) => h.negotiated), ['NTLM']);
  });

  it('takes the proposal when the handshake ends without an answer, and unknown when no token said anything', function () {
    const { registry, heard, call } = setUp();
    call('InitializeSecurityContextW', null, 0, verdict('Kerberos', false));
    const silent = call('InitializeSecurityContextW', null, SEC_I_CONTINUE_NEEDED, undefined);
    assert.deepEqual(heard, ['outbound Kerberos']);
    const report = buildLeakReport(registry.settled().liveHandles(), 'exit');
    assert.deepEqual(report.handles.filter((h) => h.kind === 'context').map((h) => h.negotiated), ['Kerberos', 'unknown']);
    assert.match(formatLeakReport(report), /Leak of 1 context \[Negotiate \(negotiated Kerberos\), outbound\]/);
    call('DeleteSecurityContext', silent, 0);
    assert.deepEqual(heard, ['outbound Kerberos', 'outbound unknown']);
  });

  it('leaves contexts of other packages alone', function () {
    const { registry, heard, call } = setUp('Kerberos');
    const client = call('InitializeSecurityContextW', null, 0, verdict('Kerberos'));
    assert.deepEqual(heard, []);
    assert.equal(buildLeakReport(registry.settled().liveHandles(), 'exit').handles.find((h) => h.kind === 'context').negotiated, undefined);
    call('DeleteSecurityContext', client, 0);
    assert.deepEqual(heard, []);
  });
});

describe('the cost of learning the negotiated package', function () {
  const none = () => undefined;
  const fakeStacks = { forCreation: none, forRelease: none, always: none };

  it('reads the tokens of Negotiate contexts only, in a library that has NTLM ones too', async function () {
    const { wrapSspiFunction } = await import('../../dist/hooks/sspi-function-wrapper.js');
    const { NegotiateHandles } = await import('../../dist/hooks/negotiate-handles.js');
    const reads = [];
    const memory = {
      words: () => undefined,
      address: (p) => p,
      word: (p) => (reads.push(p), NTLM_NEGOTIATE.readBigUInt64LE(0)),
      bytes: () => undefined,
    };
    const ctx = { registry: new HandleRegistry(), stacks: fakeStacks, guard: false, memory, provider: PROVIDER, state: { enabled: true }, negotiate: new NegotiateHandles() };
    // Each call's output token is "at" the context's own value, so a read tells which context it was for.
    const output = (at) => {
      const secBuffer = Buffer.alloc(16);
      secBuffer.writeUInt32LE(40, 0);
      secBuffer.writeUInt32LE(2, 4);
      secBuffer.writeBigUInt64LE(at, 8);
      return { ulVersion: 0, cBuffers: 1, pBuffers: secBuffer };
    };
    let next = 7n;
    const write = (handle, value) => ((handle.dwLower = value), (handle.dwUpper = 0n), value);
    const acquire = wrapSspiFunction((...args) => (write(args[7], next++), 0), fn('AcquireCredentialsHandleW'), ctx);
    const isc = wrapSspiFunction((...args) => (args[1] === null && write(args[8], next++), SEC_I_CONTINUE_NEEDED), fn('InitializeSecurityContextW'), ctx);
    const del = wrapSspiFunction(() => 0, fn('DeleteSecurityContext'), ctx);
    const credential = (pkg) => {
      const handle = {};
      acquire(null, pkg, 2, null, null, null, null, handle, {});
      return handle;
    };
    const handshake = (cred) => {
      const context = {};
      isc(cred, null, 'HTTP/x', 0, 0, 0x10, null, 0, context, output(next), [0], {});
      isc(cred, context, 'HTTP/x', 0, 0, 0x10, {}, 0, context, output(context.dwLower), [0], {});
      return context;
    };

    const ntlm = credential('NTLM');
    handshake(ntlm);
    assert.deepEqual(reads, [], 'an app that never negotiates pays no read');
    const negotiate = credential('Negotiate');
    const ntlmContexts = [handshake(ntlm), handshake(ntlm)];
    assert.deepEqual(reads, [], 'nor do its NTLM contexts once it acquired a Negotiate credential');
    const negotiated = handshake(negotiate);
    assert.deepEqual(reads, [negotiated.dwLower, negotiated.dwLower], 'both steps of the Negotiate context are read');
    del(negotiated);
    handshake(ntlm);
    for (const c of ntlmContexts) del(c);
    assert.deepEqual(reads.splice(0), [negotiated.dwLower, negotiated.dwLower]);
    handshake(negotiate);
    assert.equal(reads.length, 2, 'a later Negotiate context still is');
  });

  it('reads no NTLM context\'s token on WinPR either, with a Negotiate credential live', async function () {
    process.env.WLOG_LEVEL ??= 'OFF';
    const { default: koffi } = await import('koffi');
    const { KoffiHook } = await import('../../dist/hooks/koffi-hook.js');
    const { providerMatcher } = await import('../../dist/sspi/libraries.js');
    const { loadSspi } = await import('../../examples/lib/sspi-binding.mjs');
    const { USER, withSamFile } = await import('../fixtures/support/handshakes.mjs');
    const registry = new HandleRegistry();
    const hook = new KoffiHook({ registry, providers: providerMatcher([], none), stacks: fakeStacks, guard: false, beforeUnload: none });
    // The agent's own reads of native memory go through this decode: none but the token reader's here.
    let decodes = 0;
    const decode = Object.assign((...args) => (decodes++, koffi.decode(...args)), { ulonglong: (p) => (decodes++, koffi.decode(p, 'uint64_t')) });
    const load = hook.wrapLoad(koffi.load, { decode, address: koffi.address });
    const sspi = loadSspi(Object.assign(Object.create(koffi), { load }));
    try {
      const negotiate = sspi.acquireServerCredentials({ pkg: 'Negotiate' });
      const statuses = withSamFile((samFile) => [0, 1].map(() => sspi.handshake({ ...USER, samFile })).map((r) => [r.clientStatus, r.serverStatus]));
      assert.deepEqual(statuses, [[0, 0], [0, 0]]);
      assert.equal(decodes, 0, 'NTLM contexts: no token read');
      const r = withSamFile((samFile) => sspi.handshake({ ...USER, samFile, pkg: 'Negotiate' }));
      assert.deepEqual([r.clientStatus, r.serverStatus], [0, 0]);
      assert.ok(decodes >= 4, `the Negotiate contexts' tokens are read (${decodes} reads)`);
      assert.deepEqual(registry.settled().liveHandles().map((h) => h.package), ['Negotiate']);
      sspi.freeCredentials(negotiate);
    } finally {
      hook.unpatchAll();
    }
  });
});
