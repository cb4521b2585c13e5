// In a child process of its own: the test process's global may hold an API another test registered.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REGISTERED = fileURLToPath(new URL('../../dist/otel/registered.js', import.meta.url));

/** Runs `body` (an ES module's code, with `nothingRegistered` and `KEY` in scope) in a fresh process; what it prints, parsed. */
function inChild(body) {
  const code = `import { nothingRegistered } from ${JSON.stringify(REGISTERED)};\nconst KEY = Symbol.for('opentelemetry.js.api.1');\n${body}`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' }));
}

describe('whether anything is registered with the OpenTelemetry API', function () {
  it("holds the API global's place with undefined, invisible to a listing of the global's keys", function () {
    const seen = inChild(`console.log(JSON.stringify({
      own: Object.getOwnPropertyDescriptor(globalThis, KEY),
      listed: Object.keys(globalThis).some((k) => k.includes('opentelemetry')),
      nothing: nothingRegistered(),
    }));`);
    assert.deepEqual(seen, { own: { writable: true, enumerable: false, configurable: true }, listed: false, nothing: true });
  });

  it('sees a registration made the way the API makes it, and keeps seeing it after an unregistration', function () {
    const seen = inChild(`
      const before = nothingRegistered();
      // What @opentelemetry/api's registerGlobal does, to the letter of its reads and writes.
      const api = (globalThis[KEY] = globalThis[KEY] ?? { version: '1.9.0' });
      api.trace = {};
      const after = nothingRegistered();
      delete api.trace; // its unregisterGlobal: the API's object stays
      console.log(JSON.stringify({ before, after, later: nothingRegistered(), version: globalThis[KEY].version }));`);
    assert.deepEqual(seen, { before: true, after: false, later: false, version: '1.9.0' });
  });

  it('leaves a global the API made before it alone', function () {
    const code = `globalThis[Symbol.for('opentelemetry.js.api.1')] = { version: '1.8.0' };
      const { nothingRegistered } = await import(${JSON.stringify(REGISTERED)});
      console.log(JSON.stringify({ nothing: nothingRegistered(), version: globalThis[Symbol.for('opentelemetry.js.api.1')].version }));`;
    const seen = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' }));
    assert.deepEqual(seen, { nothing: false, version: '1.8.0' });
  });
});
