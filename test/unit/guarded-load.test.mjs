// A test plugin's hooks load behind the same guard as the preload: a failure costs one warning.
import assert from 'node:assert/strict';
import { loadGuarded } from '../../dist/test-runners/guarded-load.js';

/** What `fn` writes to stderr, and what it returns. */
async function stderrOf(fn) {
  const written = [];
  const original = process.stderr.write;
  process.stderr.write = (chunk) => written.push(String(chunk)) > 0;
  try {
    return { result: await fn(), stderr: written.join('') };
  } finally {
    process.stderr.write = original;
  }
}

describe('test plugin guard', function () {
  it('gives the hooks what loading them returned, silently', async function () {
    const { result, stderr } = await stderrOf(() => loadGuarded('sspi-agent/mocha', async () => ({ beforeEach: 1 })));
    assert.deepEqual([result, stderr], [{ beforeEach: 1 }, '']);
  });

  it('lets the tests run unchecked after one warning naming the plugin when loading fails', async function () {
    const { result, stderr } = await stderrOf(() =>
      loadGuarded('sspi-agent/node-test', async () => {
        throw new Error('hooks broke');
      }),
    );
    assert.equal(result, undefined);
    assert.match(stderr, /^sspi-agent\/node-test: failed to start; the tests run unchecked: Error: hooks broke/);
    assert.equal(stderr.split('\n').filter((l) => l.startsWith('sspi-agent')).length, 1, 'one warning');
  });
});
