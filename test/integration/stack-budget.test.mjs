// The default stack policy (SSPI_AGENT_STACKS=budget, SSPI_AGENT_STACK_BUDGET=1%): an app that creates
// handles at a human rate has every leak located, however late it comes; one that creates them faster
// than the budget allows is told how many leaks have no stack and how to get them. Default settings
// throughout: these tests are about the defaults.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, explain, runApp } from '../helpers/run-app.mjs';

const FIXTURE = 'leaks-after-warmup.mjs';

/** `leaks-after-warmup.mjs:<line>:` of the fixture's line marked `// leak site: <what>`. */
function leakLine(what) {
  const lines = readFileSync(join(FIXTURES, FIXTURE), 'utf8').split('\n');
  return `${FIXTURE}:${lines.findIndex((l) => l.includes(`// leak site: ${what}`)) + 1}:`;
}
const LEAK_LINES = { credential: leakLine('credentials'), context: leakLine('server contexts') };

/** The leaked handles of `kind` whose group's stack passes through `line`. */
function locatedAt(report, kind, line) {
  return report.groups.filter((g) => g.kind === kind && g.stack.some((f) => f.includes(line))).reduce((n, g) => n + g.count, 0);
}

describe('stack budget (default settings)', function () {
  it('locates both leak sites of an app that leaks at new sites after 3,000 balanced handshakes', async function () {
    // 250 handshakes a second, 500 contexts: a busy server, and a human rate for the budget (on Node 22 a
    // stack costs 10–14 µs, so their stacks take about 6 of the budget's 10 ms a second).
    const run = await runApp(FIXTURE, { args: ['3000', '250'] });
    assert.equal(run.code, 0, explain(run));
    assert.deepEqual(run.results, [{ handshakes: 3000 }], explain(run));
    const { report } = run;
    assert.equal(report.total, 5, explain(run));
    assert.equal(locatedAt(report, 'credential', LEAK_LINES.credential), 2, JSON.stringify(report.groups, null, 2));
    assert.equal(locatedAt(report, 'context', LEAK_LINES.context), 3, JSON.stringify(report.groups, null, 2));
    assert.equal(report.overBudget, 0);
    assert.ok(report.groups.every((g) => !g.unsampled), 'every leak has a stack of its own');
    assert.doesNotMatch(run.stderr, /without stack|no allocation stack/);
  });

  it('says how many leaks have no stack when the app creates handles faster than the budget allows', async function () {
    // The same handshakes back to back: ~8 stacks each, many times 1% of a core.
    const run = await runApp(FIXTURE, { args: ['3000'] });
    assert.equal(run.code, 0, explain(run));
    const { report } = run;
    assert.equal(report.total, 5, explain(run));
    assert.ok(report.overBudget >= 1, `over budget: ${report.overBudget}\n${explain(run)}`);
    assert.equal(report.groups.reduce((n, g) => n + (g.overBudget ?? 0), 0), report.overBudget);
    const said = /^(\d+) handles? without stack: stack capture was over its CPU budget .*SSPI_AGENT_STACKS=all records a stack for every handle/m.exec(run.stderr);
    assert.ok(said, explain(run));
    assert.equal(Number(said[1]), report.overBudget);
    // The warning logged as it happened says it too.
    assert.match(run.stderr, /\(no stack: stack capture was over its CPU budget \(SSPI_AGENT_STACK_BUDGET\); SSPI_AGENT_STACKS=all shows one\)/);
  });
});
