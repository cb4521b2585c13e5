// Transparency under fuzzing: the agent's wrapper must not change what an SSPI call does, whatever
// the app passes. fast-check drives test/fixtures/robustness/fuzz-transparency.mjs (which documents
// the inputs it leaves out, and why); the seed is printed, and FUZZ_SEED=<seed> reruns a failure.
import assert from 'node:assert/strict';
import { explain, runApp } from '../helpers/run-app.mjs';

const SEED = process.env.FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
const RUNS = process.env.FUZZ_RUNS ?? '3000';

describe('robustness: transparency under fuzzing', function () {
  this.timeout(120_000);

  it(`wrapped and unwrapped declarations of the same WinPR functions give the same outcome (seed ${SEED}, ${RUNS} cases)`, async function () {
    console.log(`      fuzz seed ${SEED} (rerun with FUZZ_SEED=${SEED})`);
    const run = await runApp('robustness/fuzz-transparency.mjs', { env: { FUZZ_SEED: SEED, FUZZ_RUNS: RUNS } });
    const byKey = Object.assign({}, ...run.results);
    // The fixture ends itself with SIGKILL after `.async` calls (WinPR crashes at exit otherwise,
    // agent or not); `end` is its last line, so a crash before it fails here.
    assert.ok(byKey.end, `the fuzz run did not finish (seed ${SEED})\n${explain(run)}`);
    const sync = run.results.find((r) => r.property === 'sync');
    const asyncRun = run.results.find((r) => r.property === 'async');
    const guard = run.results.find((r) => r.property === 'guard');
    assert.equal(sync?.compared, Number(RUNS), explain(run));
    // Every function, in each declaration style, was fuzzed.
    assert.ok(Object.keys(sync.byFunction).length >= 20, JSON.stringify(sync.byFunction));
    assert.ok(asyncRun.compared >= 50);
    assert.ok(guard.guarded >= 50);
    assert.ok(byKey.regressions, 'the garbage out-pointer regression ran');
  });
});
