// SSPI_AGENT_COLLECTED: which handles' JS holders the collected-handle detector watches. The GC is
// real (exposed through V8's flag), the records synthetic.
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HandleRegistry } from '../../dist/core/registry.js';
import { CollectedHandleDetector } from '../../dist/detectors/collected-handles.js';
import { SAMPLE_EVERY, SAMPLE_FIRST, sampler } from '../../dist/core/sampling.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

/** Opens `n` credentials whose holders are dropped at once; the number the detector reports collected. */
async function collectedOf(mode, n, withSite = () => false) {
  const registry = new HandleRegistry();
  const detector = new CollectedHandleDetector(registry, mode);
  let collected = 0;
  registry.subscribe({ onLeak: (h, reason) => reason === 'collected' && collected++ });
  (() => {
    for (let i = 0; i < n; i++) {
      const site = withSite(i) ? { frames: () => [] } : undefined;
      registry.open({ kind: 'credential', key: BigInt(i + 1), package: 'NTLM', direction: 'inbound', createdBy: 'AcquireCredentialsHandleW', library: 'x', site, holder: { dwLower: i } });
    }
  })();
  for (let round = 0; round < 20 && collected < Math.min(n, expected(mode, n)); round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // A few more turns, so a detector that watched more than it should is caught too.
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  detector.stop();
  return collected;
}

function expected(mode, n) {
  if (mode === 'all') return n;
  if (mode === 'off') return 0;
  return SAMPLE_FIRST + Math.floor(n / SAMPLE_EVERY) - Math.floor(SAMPLE_FIRST / SAMPLE_EVERY);
}

describe('collected-handle detector sampling (SSPI_AGENT_COLLECTED)', function () {
  this.timeout(10_000);
  const n = 300;

  it('watches every holder with all', async function () {
    assert.equal(await collectedOf('all', n), n);
  });

  it('watches the first 16 and one in 64 after with sampled', async function () {
    assert.equal(await collectedOf('sampled', n), expected('sampled', n));
  });

  it('with sampled, also watches every handle that has an allocation stack (its leak can say where)', async function () {
    const withSite = (i) => i % 10 === 5; // 30 of 300, none of them among the sampler's picks
    assert.equal(await collectedOf('sampled', n, withSite), expected('sampled', n) + n / 10);
  });

  it('watches none with off', async function () {
    assert.equal(await collectedOf('off', n), 0);
  });

  it('counts the calls of each function apart, however they interleave', function () {
    const take = sampler('sampled');
    const taken = { A: [], B: [] };
    const calls = { A: 0, B: 0 };
    // Runs of uneven length, so that a count kept for the run rather than the function would show.
    for (let i = 0; calls.A < 300 || calls.B < 300; i++) {
      for (const fn of i % 3 === 0 ? ['A', 'A', 'B'] : ['B', 'A', 'B', 'B']) {
        calls[fn]++;
        if (take(fn)) taken[fn].push(calls[fn]);
      }
    }
    for (const fn of ['A', 'B']) {
      const expected = [];
      for (let k = 1; k <= calls[fn]; k++) if (k <= SAMPLE_FIRST || k % SAMPLE_EVERY === 0) expected.push(k);
      assert.deepEqual(taken[fn], expected, fn);
    }
  });
});
