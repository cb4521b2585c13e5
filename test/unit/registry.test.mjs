import assert from 'node:assert/strict';
import { HandleRegistry, RELEASED_MEMORY } from '../../dist/core/registry.js';
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
    assert.equal(registry.settled().liveCount('credential'), 1);
    assert.equal(registry.release('context', '3.4', 0, 'DeleteSecurityContext').result, 'released');
    assert.equal(registry.release('context', '3.4', 0, 'DeleteSecurityContext').result, 'double');
    assert.equal(registry.release('context', '5.6', 0, 'DeleteSecurityContext').result, 'unknown');
    assert.equal(registry.release('credential', '1.2', -2146893055, 'FreeCredentialsHandle').result, 'failed');
    assert.equal(registry.settled().liveCount('credential'), 0, 'a failed release ends the handle: the provider holds nothing to release');
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
    assert.equal(registry.settled().oldest('credential').key, 'c0');
    registry.release('credential', 'c0', 0, 'FreeCredentialsHandle');
    registry.release('credential', 'c2', 0, 'FreeCredentialsHandle');
    assert.equal(registry.settled().oldest('credential').key, 'c1');
    registry.release('credential', 'c1', 0, 'FreeCredentialsHandle');
    assert.equal(registry.settled().oldest('credential').key, 'c3');
    assert.equal(registry.settled().oldest('context'), undefined);
    assert.deepEqual(registry.settled().liveHandles().map((h) => h.key), ['c3', 'c4']);
  });

  it('closes a live record whose value the provider hands out again', function () {
    const registry = new HandleRegistry();
    let closed = 0;
    registry.subscribe({ onClose: () => closed++ });
    registry.open(opening('credential', '9.9'));
    registry.open(opening('credential', '9.9'));
    assert.equal(registry.settled().liveCount('credential'), 1);
    assert.equal(closed, 1);
  });

  it('remembers the last RELEASED_MEMORY released handles of a kind for the guard, also a value released twice over', function () {
    const registry = new HandleRegistry();
    const cycle = (key) => {
      registry.open(opening('credential', key));
      assert.equal(registry.release('credential', key, 0, 'FreeCredentialsHandle').result, 'released');
    };
    cycle(1);
    // The provider hands the value out again and it is released again: the first release's place
    // in memory must not forget the second's record when it comes round.
    cycle(2);
    cycle(2);
    for (let i = 0; i < RELEASED_MEMORY - 2; i++) cycle(1000 + i);
    assert.equal(registry.releasedHandle('credential', 1), undefined, 'the oldest release is forgotten');
    assert.equal(registry.releasedHandle('credential', 2)?.releasedBy, 'FreeCredentialsHandle', 'the value released again is still remembered');
    assert.equal(registry.release('credential', 2, 0, 'FreeCredentialsHandle').result, 'double');
    cycle(5000 + RELEASED_MEMORY);
    assert.ok(registry.releasedHandle('credential', 2), 'the place its first release had is passed over');
    cycle(5001 + RELEASED_MEMORY);
    assert.equal(registry.releasedHandle('credential', 2), undefined, 'until it is the oldest');
    assert.equal(registry.releasedHandle('credential', 1000)?.releasedBy, 'FreeCredentialsHandle');
  });

  it('counts live handles by label set, not by handle', function () {
    const registry = new HandleRegistry();
    for (let i = 0; i < 100; i++) registry.open(opening('credential', `k${i}`, { direction: i % 2 ? 'inbound' : 'outbound' }));
    const groups = [...registry.settled().liveGroups()].map((g) => [g.direction, g.count]).sort();
    assert.deepEqual(groups, [['inbound', 50], ['outbound', 50]]);
  });

  it('flags each context still mid-handshake past the limit once, whatever was released in between', function () {
    const registry = new HandleRegistry();
    const abandoned = [];
    registry.subscribe({ onLeak: (h, reason) => reason === 'abandoned' && abandoned.push(h.id) });
    const CONTINUE = 0x00090312;
    const limits = { credential: 0, context: 0, buffer: 0, handshake: 1000 };
    const ctx = (key, status, at) => registry.open(opening('context', key, { status, at }));
    const a = ctx('a', CONTINUE, 0);
    const b = ctx('b', 0, 1);
    const c = ctx('c', CONTINUE, 2);
    registry.release('context', 'a', 0, 'DeleteSecurityContext', undefined, 3);
    registry.flagStale(limits, 500);
    assert.deepEqual(abandoned, [], 'none past the limit yet');
    registry.touch(c, 'AcceptSecurityContext', CONTINUE, true, 600);
    registry.flagStale(limits, 1500);
    assert.deepEqual(abandoned, [c.id], 'only the context still mid-handshake');
    // The check walked past every live context: later ones are still found, and c is not flagged twice.
    registry.release('context', 'c', 0, 'DeleteSecurityContext', undefined, 1600);
    const d = ctx('d', CONTINUE, 1700);
    const e = ctx('e', CONTINUE, 1800);
    registry.touch(e, 'AcceptSecurityContext', 0, true, 1900);
    registry.flagStale(limits, 5000);
    assert.deepEqual(abandoned, [c.id, d.id]);
    assert.equal(registry.settled().staleCount('context', 'abandoned'), 1, 'c was released: d only');
    assert.ok(a && b);
  });

  it('counts a credential freed while contexts made from it are live, and names those contexts', function () {
    const registry = new HandleRegistry();
    const events = [];
    registry.subscribe({ onOutOfOrderRelease: (cred, contexts) => events.push([cred.id, contexts.map((c) => c.id)]) });
    const cred = registry.open(opening('credential', 'cred'));
    const first = registry.open(opening('context', 'c1', { credential: cred }));
    const second = registry.open(opening('context', 'c2', { credential: cred }));
    registry.open(opening('context', 'other'));
    registry.release('context', 'c1', 0, 'DeleteSecurityContext');
    assert.equal(cred.liveContexts, 1);
    registry.release('credential', 'cred', 0, 'FreeCredentialsHandle');
    assert.deepEqual(events, [[cred.id, [second.id]]]);
    registry.release('context', 'c2', 0, 'DeleteSecurityContext');
    assert.equal(cred.liveContexts, 0);
    const again = registry.open(opening('credential', 'cred2'));
    registry.release('credential', 'cred2', 0, 'FreeCredentialsHandle');
    assert.equal(events.length, 1, 'a credential whose contexts are gone is released in order');
    assert.ok(first && again);
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
