// The node-expose-sspi hook on Linux: the addon is Windows-only (its binary runs in the Windows lane,
// test/windows/node-expose-sspi.wine.mjs), so here it wraps a stand-in `sspi` object with the addon's
// API shape and errors, on real NTLM handshakes through WinPR.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { forceCleanup } from '../../dist/cleanup.js';
import { NodeExposeSspiHook, resultStatus, thrownStatus } from '../../dist/hooks/node-expose-sspi-hook.js';
import { hookRequire } from '../../dist/hooks/require-hook.js';
import { HandleRegistry } from '../../dist/core/registry.js';
import { stackPolicy } from '../../dist/core/stacks.js';
import { nodeExposeSspiStandIn } from '../helpers/node-expose-sspi-standin.mjs';
import { USER, withSamFile } from '../fixtures/support/handshakes.mjs';

// WinPR runs in this process here: keep its log quiet, as the apps under test do.
process.env.WLOG_LEVEL ??= 'OFF';

const OUTBOUND = { packageName: 'NTLM', credentialUse: 'SECPKG_CRED_OUTBOUND', authData: USER };
const INBOUND = { packageName: 'NTLM', credentialUse: 'SECPKG_CRED_INBOUND' };

function instrumented(options) {
  const registry = new HandleRegistry();
  const hook = new NodeExposeSspiHook({ registry, stacks: stackPolicy('all', 8), guard: true });
  const addon = nodeExposeSspiStandIn(koffi, options);
  hook.patchModule({ sspi: addon.sspi });
  const live = () => registry.settled().liveHandles().map((h) => `${h.kind} ${h.direction} ${h.package} ${h.createdBy} ${h.library}`);
  return { registry, hook, ...addon, live };
}

/** A whole conversation through the addon's API; the contexts the last steps returned are the ones to delete. */
function converse(sspi, password = USER.password) {
  const client = sspi.AcquireCredentialsHandle({ ...OUTBOUND, authData: { ...USER, password } }).credential;
  const server = sspi.AcquireCredentialsHandle(INBOUND).credential;
  const negotiate = sspi.InitializeSecurityContext({ credential: client, targetName: 'HTTP/localhost' });
  const challenge = sspi.AcceptSecurityContext({ credential: server, SecBufferDesc: negotiate.SecBufferDesc });
  const authenticate = sspi.InitializeSecurityContext({ credential: client, targetName: 'HTTP/localhost', contextHandle: negotiate.contextHandle, SecBufferDesc: challenge.SecBufferDesc });
  let done;
  let error;
  try {
    done = sspi.AcceptSecurityContext({ credential: server, contextHandle: challenge.contextHandle, SecBufferDesc: authenticate.SecBufferDesc });
  } catch (err) {
    error = err;
  }
  return { client, server, clientContext: authenticate.contextHandle, serverContext: done?.contextHandle ?? challenge.contextHandle, done, error };
}

function release(sspi, r) {
  sspi.DeleteSecurityContext(r.clientContext);
  sspi.DeleteSecurityContext(r.serverContext);
  sspi.FreeCredentialsHandle(r.client);
  sspi.FreeCredentialsHandle(r.server);
}

describe('node-expose-sspi hook (stand-in addon on WinPR)', function () {
  it('reads the addon’s statuses: names, 0x%08x, decimals, and the code in a thrown error', function () {
    assert.equal(resultStatus({ SECURITY_STATUS: 'SEC_I_CONTINUE_NEEDED' }), 0x00090312);
    assert.equal(resultStatus({ SECURITY_STATUS: 'SEC_E_LOGON_DENIED' }), 0x8009030c | 0);
    assert.equal(resultStatus({ SECURITY_STATUS: '0x80090308' }), 0x80090308 | 0);
    assert.equal(resultStatus({ SECURITY_STATUS: String(0x00090313) }), 0x00090313);
    assert.equal(resultStatus({ credential: '0x1.0x2' }), 0);
    assert.equal(thrownStatus(new Error('AcquireCredentialsHandle has failed: (error code: 0x80090305) The requested package was not found')), 0x80090305 | 0);
    assert.equal(thrownStatus(new Error('credentialUse must be a flag string.')), undefined);
  });

  it('tracks credentials and contexts by their handle strings: balanced handshakes end with 0 live', function () {
    withSamFile((samFile) => {
      const { registry, sspi, live } = instrumented({ samFile });
      for (let i = 0; i < 5; i++) {
        const r = converse(sspi);
        assert.equal(r.done?.SECURITY_STATUS, 'SEC_E_OK', String(r.error));
        if (i === 0) {
          assert.deepEqual(live().sort(), [
            'context inbound NTLM AcceptSecurityContext node-expose-sspi',
            'context outbound NTLM InitializeSecurityContextW node-expose-sspi',
            'credential inbound NTLM AcquireCredentialsHandleW node-expose-sspi',
            'credential outbound NTLM AcquireCredentialsHandleW node-expose-sspi',
          ]);
          assert.match(registry.settled().liveHandles()[0].key, /^0x[0-9a-f]{16}\.0x[0-9a-f]{16}$/, 'the addon’s string is the key');
        }
        release(sspi, r);
      }
      assert.deepEqual(live(), []);
    });
  });

  it('maps credentialUse flag names, and its absence to the addon’s default, SECPKG_CRED_BOTH', function () {
    const { registry, sspi } = instrumented();
    const handles = [
      sspi.AcquireCredentialsHandle({ packageName: 'NTLM', credentialUse: 'SECPKG_CRED_INBOUND' }),
      sspi.AcquireCredentialsHandle({ packageName: 'Negotiate', credentialUse: 'SECPKG_CRED_OUTBOUND' }),
      sspi.AcquireCredentialsHandle({ packageName: 'NTLM' }),
    ];
    assert.deepEqual(registry.settled().liveHandles().map((h) => `${h.package} ${h.direction}`), ['NTLM inbound', 'Negotiate outbound', 'NTLM both']);
    assert.throws(() => sspi.AcquireCredentialsHandle({ packageName: 'NTLM', credentialUse: 2 }), /credentialUse must be a flag string/);
    assert.equal(registry.settled().liveCount('credential'), 3, 'a call the addon refuses creates nothing');
    for (const h of handles) sspi.FreeCredentialsHandle(h.credential);
    assert.equal(registry.settled().liveCount('credential'), 0);
  });

  it("keeps a rejected login's server context live (the addon throws) until it is deleted, with its history", function () {
    withSamFile((samFile) => {
      const { registry, sspi } = instrumented({ samFile });
      const r = converse(sspi, 'wrong-password');
      assert.match(String(r.error), /AcceptSecurityContext: SECURITY_STATUS incorrect \(<0\): \(error code: 0x8009030f\)/);
      const server = registry.settled().liveHandles().find((h) => h.kind === 'context' && h.direction === 'inbound');
      assert.ok(server, 'the rejected login’s context is still live');
      assert.deepEqual(server.history.map((c) => c.fn), ['AcceptSecurityContext', 'AcceptSecurityContext']);
      assert.equal(server.history[1].status, 0x8009030f | 0);
      assert.equal(server.handshake, 'failed');
      release(sspi, r);
      assert.equal(registry.settled().liveHandles().length, 0);
    });
  });

  it('follows a context whose handle string changes on later steps (Wine’s secur32 does that)', function () {
    withSamFile((samFile) => {
      const { registry, sspi } = instrumented({ samFile, reissue: true });
      const r = converse(sspi);
      assert.equal(r.done?.SECURITY_STATUS, 'SEC_E_OK', String(r.error));
      const contexts = registry.settled().liveHandles().filter((h) => h.kind === 'context');
      assert.deepEqual(contexts.map((h) => h.key).sort(), [r.clientContext, r.serverContext].sort(), 'the records answer to the new strings');
      release(sspi, r);
      assert.equal(registry.settled().liveHandles().length, 0);
    });
  });

  it('stops a double delete and a use after free before the addon sees them, with the addon’s own error', function () {
    const { registry, sspi, calls } = instrumented();
    const invalid = [];
    registry.subscribe({ onInvalidRelease: (e) => invalid.push(`${e.kind} ${e.reason} ${e.fn}`) });
    const { credential } = sspi.AcquireCredentialsHandle(OUTBOUND);
    const { contextHandle } = sspi.InitializeSecurityContext({ credential, targetName: 'HTTP/localhost' });
    sspi.DeleteSecurityContext(contextHandle);
    assert.throws(() => sspi.DeleteSecurityContext(contextHandle), /^Error: Cannot DeleteSecurityContext: secStatus: \(error code: 0x80090301\)/);
    sspi.FreeCredentialsHandle(credential);
    assert.throws(() => sspi.InitializeSecurityContext({ credential, targetName: 'HTTP/localhost' }), /Cannot InitializeSecurityContext: .*0x80090301/);
    assert.equal(calls.DeleteSecurityContext, 1, 'the second delete never reached the addon');
    assert.equal(calls.InitializeSecurityContext, 1, 'the use after free never reached the addon');
    assert.deepEqual(invalid, ['context double DeleteSecurityContext', 'credential use_after_release InitializeSecurityContextW']);
  });

  it('forced cleanup releases through the addon’s own Delete/Free, contexts first', function () {
    const { registry, sspi, calls } = instrumented();
    const { credential } = sspi.AcquireCredentialsHandle(OUTBOUND);
    sspi.InitializeSecurityContext({ credential, targetName: 'HTTP/localhost' });
    const results = forceCleanup(registry, 'api');
    assert.deepEqual(results.map((r) => `${r.handle.kind} ${r.status} ${r.result}`), ['context 0 released', 'credential 0 released']);
    assert.equal(calls.DeleteSecurityContext, 1);
    assert.equal(calls.FreeCredentialsHandle, 1);
    assert.equal(registry.settled().liveHandles().length, 0);
  });

  it('records the app’s call site, and passes through once unpatched', function () {
    const { registry, hook, sspi } = instrumented();
    const acquire = () => sspi.AcquireCredentialsHandle(OUTBOUND);
    const { credential } = acquire();
    assert.match(registry.settled().liveHandles()[0].site.frames()[0], /at acquire \(.*node-expose-sspi-hook\.test\.mjs:\d+:\d+\)/);
    hook.unpatchAll();
    const second = sspi.AcquireCredentialsHandle(OUTBOUND);
    assert.equal(registry.settled().liveCount('credential'), 1, 'not tracked once unpatched');
    sspi.FreeCredentialsHandle(credential);
    sspi.FreeCredentialsHandle(second.credential);
  });

  it('is reached through require() and an ES module import of node-expose-sspi', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'sspi-nes-'));
    const pkg = join(dir, 'node_modules', 'node-expose-sspi');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    mkdirSync(join(pkg, 'lib'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'node-expose-sspi', main: 'dist/index.js' }));
    // The shape of the real package: dist/index.js re-exports lib/api.js (the addon) through getters.
    writeFileSync(join(pkg, 'lib', 'api.js'), 'exports.sspi = { AcquireCredentialsHandle() { return { credential: "0x1.0x2" }; }, AcceptSecurityContext() {} };\n');
    writeFileSync(join(pkg, 'dist', 'index.js'), 'const api = require("../lib/api"); Object.defineProperty(exports, "sspi", { enumerable: true, get: () => api.sspi });\n');
    const seen = [];
    const unhook = hookRequire(() => {}, (exports) => seen.push(exports));
    try {
      // An ES module import first (Node hands the CommonJS loader the file's path), then require().
      const imported = await import(join(pkg, 'dist', 'index.js'));
      const required = createRequire(join(dir, 'app.cjs'))('node-expose-sspi');
      assert.equal(seen.length, 2, `seen ${seen.length}`);
      assert.equal(seen[0], imported.default);
      assert.equal(seen[1], required);
      assert.equal(imported.default.sspi, required.sspi);
      const registry = new HandleRegistry();
      const hook = new NodeExposeSspiHook({ registry, stacks: stackPolicy('off', 8), guard: true });
      for (const exports of seen) hook.patchModule(exports);
      required.sspi.AcquireCredentialsHandle({ packageName: 'NTLM', credentialUse: 'SECPKG_CRED_OUTBOUND' });
      assert.deepEqual(registry.settled().liveHandles().map((h) => h.key), ['0x1.0x2'], 'wrapped once, in place');
      hook.unpatchAll();
    } finally {
      unhook();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
