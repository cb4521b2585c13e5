// The registry applies observed calls in batches (HandleRegistry.defer): whatever reads it, and the
// guard above all, must see every call that returned before the read, in call order.
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { HandleRegistry, PENDING_LIMIT } from '../../dist/registry.js';
import { guardCall, recordObservedCall } from '../../dist/lifecycle.js';
import { sspiFunction } from '../../dist/sspi/functions.js';
import { agentErrorCounts, setMessageSink } from '../../dist/diagnostics.js';

const provider = { library: 'libwinpr2.so.2', releasers: {} };
const fn = (name) => sspiFunction(name);

function acquire(key) {
  return { fn: fn('AcquireCredentialsHandleW'), provider, status: 0, durationSeconds: 0, packageName: 'NTLM', credentialUse: 2, outHandle: key };
}
function free(key) {
  return { fn: fn('FreeCredentialsHandle'), provider, status: 0, durationSeconds: 0, credential: key };
}
function firstInit(credential, key) {
  return { fn: fn('InitializeSecurityContextW'), provider, status: 0x00090312, durationSeconds: 0, credential, context: null, outHandle: key };
}

/** A registry whose listener records what it hears, in order. */
function watched() {
  const registry = new HandleRegistry();
  const events = [];
  registry.subscribe({
    onCall: (name) => events.push(`call ${name}`),
    onOpen: (h) => events.push(`open ${h.kind}`),
    onClose: (h) => events.push(`close ${h.kind}`),
    onInvalidRelease: (e) => events.push(`invalid ${e.kind} ${e.reason}`),
  });
  return { registry, events };
}

describe('calls applied in batches', function () {
  it('waits for the next turn of the event loop, then applies the calls in order', async function () {
    const { registry, events } = watched();
    recordObservedCall(registry, acquire(0x10n));
    recordObservedCall(registry, firstInit(0x10n, 0x20n));
    assert.deepEqual(events, [], 'nothing applied while the app’s code runs on');
    await turn();
    assert.deepEqual(events, ['call AcquireCredentialsHandleW', 'open credential', 'call InitializeSecurityContextW', 'open context']);
    assert.equal(registry.liveHandles().find((h) => h.kind === 'context').credential.key, 0x10n, 'the context knows its credential');
  });

  it('applies what waits before anything reads the registry', function () {
    const { registry } = watched();
    recordObservedCall(registry, acquire(0x10n));
    assert.equal(registry.liveCount('credential'), 1);
    recordObservedCall(registry, free(0x10n));
    assert.equal(registry.liveHandles().length, 0);
    recordObservedCall(registry, acquire(0x30n));
    assert.deepEqual(registry.liveGroups().map((g) => `${g.kind} ${g.count}`), ['credential 1']);
  });

  it('applies them on the spot once PENDING_LIMIT wait, so a loop that never yields does not pile them up', function () {
    const { registry, events } = watched();
    for (let i = 1; i < PENDING_LIMIT; i++) recordObservedCall(registry, acquire(BigInt(i)));
    assert.equal(events.length, 0);
    recordObservedCall(registry, acquire(BigInt(PENDING_LIMIT)));
    assert.equal(events.filter((e) => e === 'open credential').length, PENDING_LIMIT);
  });

  it('the guard sees a release that still waits: a second free is stopped', function () {
    const { registry, events } = watched();
    recordObservedCall(registry, acquire(0x10n));
    recordObservedCall(registry, free(0x10n));
    const verdict = guardCall(registry, fn('FreeCredentialsHandle'), { credential: 0x10n });
    assert.equal(verdict?.reason, 'double');
    assert.equal(verdict.released.releasedBy, 'FreeCredentialsHandle');
    assert.deepEqual(events.slice(-2), ['call FreeCredentialsHandle', 'close credential'], 'applied before the verdict');
  });

  it('the guard sees a value the provider handed out again while that still waits: its use is let through', function () {
    const { registry, events } = watched();
    recordObservedCall(registry, acquire(0x10n));
    recordObservedCall(registry, free(0x10n));
    registry.settle();
    // The allocator hands the freed value out again: released in the registry, live in what waits.
    recordObservedCall(registry, acquire(0x10n));
    const heard = events.length;
    assert.equal(guardCall(registry, fn('InitializeSecurityContextW'), { credential: 0x10n, context: null }), undefined);
    assert.equal(guardCall(registry, fn('FreeCredentialsHandle'), { credential: 0x10n }), undefined);
    // Providers re-issue freed values at once, on every handshake: answered without applying what waits.
    assert.equal(events.length, heard, 'the guard answered from what waits');
    recordObservedCall(registry, free(0x10n));
    assert.equal(guardCall(registry, fn('FreeCredentialsHandle'), { credential: 0x10n })?.reason, 'double', 'and released again');
  });

  it('the guard sees a buffer address SSPI allocated again while that still waits', function () {
    const { registry, events } = watched();
    const query = (key) => ({ fn: fn('QuerySecurityPackageInfoW'), provider, status: 0, durationSeconds: 0, packageName: 'NTLM', outBuffers: [{ key, holder: undefined }] });
    const freeBuffer = (key) => ({ fn: fn('FreeContextBuffer'), provider, status: 0, durationSeconds: 0, buffer: key });
    recordObservedCall(registry, query(0x500n));
    recordObservedCall(registry, freeBuffer(0x500n));
    registry.settle();
    recordObservedCall(registry, query(0x500n));
    const heard = events.length;
    assert.equal(guardCall(registry, fn('FreeContextBuffer'), { buffer: 0x500n }), undefined);
    assert.equal(events.length, heard, 'answered from what waits');
    recordObservedCall(registry, freeBuffer(0x500n));
    assert.equal(guardCall(registry, fn('FreeContextBuffer'), { buffer: 0x500n })?.reason, 'double');
    assert.equal(registry.liveCount('buffer'), 0);
  });

  it('applies a call at once when a listener reads the caller’s context', function () {
    const { registry, events } = watched();
    let wants = true;
    registry.subscribe({ wantsCallerContext: () => wants });
    recordObservedCall(registry, acquire(0x10n));
    assert.deepEqual(events, ['call AcquireCredentialsHandleW', 'open credential']);
    wants = false;
    recordObservedCall(registry, free(0x10n));
    assert.equal(events.length, 2);
  });

  it('counts a change that throws as an agent error and applies the next', function () {
    const messages = [];
    setMessageSink((m) => messages.push(m));
    const before = agentErrorCounts().get('registry.settle') ?? 0;
    try {
      const { registry } = watched();
      registry.defer(() => {
        throw new Error('boom');
      }, undefined);
      recordObservedCall(registry, acquire(0x10n));
      assert.equal(registry.liveCount('credential'), 1);
    } finally {
      setMessageSink((m) => process.stderr.write(m));
    }
    assert.equal(agentErrorCounts().get('registry.settle'), before + 1);
    assert.match(messages.join(''), /registry\.settle .*boom/);
  });
});
