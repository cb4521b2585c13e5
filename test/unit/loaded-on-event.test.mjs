// A part loaded at the first registry event that wants it (the Prometheus and OpenTelemetry sides):
// it hears that event too, and every one after it, once.
import assert from 'node:assert/strict';
import { HandleRegistry } from '../../dist/core/registry.js';
import { LoadedOnEvent } from '../../dist/loaded-on-event.js';

/** A part that subscribes a listener recording the calls it hears, as the real sides do. */
function recordingPart(registry, heard) {
  const listener = {
    onCall(fn) {
      heard.push(`${fn} (this is the listener: ${this === listener})`);
    },
  };
  registry.subscribe(listener);
  return { listener };
}

describe('a part loaded at the first registry event', function () {
  it('is made at the first event, hears it, and then hears each event once as its own listener', function () {
    const registry = new HandleRegistry();
    const heard = [];
    let made = 0;
    const side = new LoadedOnEvent(registry, { make: () => (made++, recordingPart(registry, heard)), listenerOf: (p) => p.listener });
    assert.equal(side.loaded, undefined, 'nothing made before an event');
    registry.recordCall('AcquireCredentialsHandleW', 0, 0);
    registry.recordCall('FreeCredentialsHandle', 0, 0);
    assert.equal(made, 1);
    assert.deepEqual(heard, ['AcquireCredentialsHandleW (this is the listener: true)', 'FreeCredentialsHandle (this is the listener: true)']);
  });

  it('waits while open() says no, and a load() outside an event hears nothing twice', function () {
    const registry = new HandleRegistry();
    const heard = [];
    let wanted = false;
    const side = new LoadedOnEvent(registry, { make: () => recordingPart(registry, heard), listenerOf: (p) => p.listener, open: () => wanted });
    registry.recordCall('QueryContextAttributesW', 0, 0);
    assert.equal(side.loaded, undefined, 'not wanted: not made');
    wanted = true;
    side.load();
    registry.recordCall('DeleteSecurityContext', 0, 0);
    assert.deepEqual(heard, ['DeleteSecurityContext (this is the listener: true)']);
  });
});
