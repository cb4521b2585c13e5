import assert from 'node:assert/strict';
import { HandleRegistry } from '../../dist/registry.js';
import { setMessageSink, agentErrorCounts } from '../../dist/diagnostics.js';

function opening(kind, key, extra = {}) {
  return { kind, key, package: 'NTLM', direction: 'outbound', createdBy: 'AcquireCredentialsHandleW', library: 'libwinpr2.so.2', ...extra };
}

describe('handle registry', function () {
  it('keeps live handles, ends them on release, and keeps opened − closed = live', function () {
    const registry = new HandleRegistry();
    const events = [];
    registry.subscribe({
      onOpen: (h) => events.push(['open', h.kind, h.id]),
      onClose: (h) => events.push(['close', h.kind, h.id]),
      onInvalidRelease: (e) => events.push(['invalid', e.kind, e.reason]),
    });
    const cred = registry.open(opening('credential', '1.2'));
    const ctx = registry.open(opening('context', '3.4', { credential: cred, direction: 'inbound' }));
    assert.equal(ctx.credential, cred);
    assert.equal(registry.liveCount('credential'), 1);
    assert.equal(registry.release('context', '3.4', 0, 'DeleteSecurityContext').result, 'released');
    assert.equal(registry.release('context', '3.4', 0, 'DeleteSecurityContext').result, 'double');
    assert.equal(registry.release('context', '5.6', 0, 'DeleteSecurityContext').result, 'unknown');
    assert.equal(registry.release('credential', '1.2', -2146893055, 'FreeCredentialsHandle').result, 'failed');
    assert.equal(registry.liveCount('credential'), 0, 'a failed release ends the handle: the provider holds nothing to release');
    assert.deepEqual(events, [
      ['open', 'credential', 1],
      ['open', 'context', 2],
      ['close', 'context', 2],
      ['invalid', 'context', 'double'],
      ['invalid', 'context', 'unknown'],
      ['invalid', 'credential', 'failed'],
      ['close', 'credential', 1],
    ]);
  });

  it('finds the oldest live handle of each kind after any release', function () {
    const registry = new HandleRegistry();
    for (let i = 0; i < 5; i++) registry.open(opening('credential', `c${i}`));
    assert.equal(registry.oldest('credential').key, 'c0');
    registry.release('credential', 'c0', 0, 'FreeCredentialsHandle');
    registry.release('credential', 'c2', 0, 'FreeCredentialsHandle');
    assert.equal(registry.oldest('credential').key, 'c1');
    registry.release('credential', 'c1', 0, 'FreeCredentialsHandle');
    assert.equal(registry.oldest('credential').key, 'c3');
    assert.equal(registry.oldest('context'), undefined);
    assert.deepEqual(registry.liveHandles().map((h) => h.key), ['c3', 'c4']);
  });

  it('closes a live record whose value the provider hands out again', function () {
    const registry = new HandleRegistry();
    let closed = 0;
    registry.subscribe({ onClose: () => closed++ });
    registry.open(opening('credential', '9.9'));
    registry.open(opening('credential', '9.9'));
    assert.equal(registry.liveCount('credential'), 1);
    assert.equal(closed, 1);
  });

  it('counts live handles by label set, not by handle', function () {
    const registry = new HandleRegistry();
    for (let i = 0; i < 100; i++) registry.open(opening('credential', `k${i}`, { direction: i % 2 ? 'inbound' : 'outbound' }));
    const groups = [...registry.liveGroups()].map((g) => [g.direction, g.count]).sort();
    assert.deepEqual(groups, [['inbound', 50], ['outbound', 50]]);
  });

  it('keeps a throwing listener from breaking the others', function () {
    const registry = new HandleRegistry();
    let seen = 0;
    registry.subscribe({ onOpen: () => { throw new Error('exporter bug'); } });
    registry.subscribe({ onOpen: () => seen++ });
    const messages = [];
    setMessageSink((m) => messages.push(m));
    try {
      registry.open(opening('credential', 'x'));
      registry.open(opening('credential', 'y'));
    } finally {
      setMessageSink((m) => process.stderr.write(m));
    }
    assert.equal(seen, 2);
    assert.equal(agentErrorCounts().get('listener.onOpen'), 2);
    assert.equal(messages.length, 1, 'logged once');
    assert.match(messages[0], /internal error in listener\.onOpen .*exporter bug/);
  });
});
