import assert from 'node:assert/strict';
import { buildLeakReport, formatLeakReport } from '../../dist/exporters/leak-report.js';
import { OVER_BUDGET, stackPolicy } from '../../dist/core/stacks.js';

let nextId = 1;
function handle(site, extra = {}) {
  return {
    id: nextId++, key: String(nextId), kind: 'context', package: 'NTLM', direction: 'inbound', createdBy: 'AcceptSecurityContext',
    library: 'libwinpr2.so.2', createdAt: performance.now(), credential: undefined, history: undefined,
    site: site && { frames: () => site }, ...extra,
  };
}

describe('leak report', function () {
  it('groups leaks by allocation stack and counts them', function () {
    const a = ['at serve (/app/server.js:10:5)'];
    const b = ['at retry (/app/server.js:20:5)'];
    const report = buildLeakReport([handle(a), handle(a), handle(b)], 'exit');
    assert.deepEqual(report.groups.map((g) => [g.count, g.site]), [[2, '/app/server.js:10:5'], [1, '/app/server.js:20:5']]);
    assert.match(formatLeakReport(report), /3 SSPI handles still live at exit \(0 credentials, 3 contexts\), 2 allocation sites/);
  });

  it('joins unsampled handles to the one site seen creating their kind of handle', function () {
    const a = ['at serve (/app/server.js:10:5)'];
    const report = buildLeakReport([handle(a), handle(undefined), handle(undefined)], 'exit');
    assert.equal(report.groups.length, 1);
    assert.equal(report.groups[0].count, 3);
    assert.equal(report.groups[0].unsampled, 2);
    assert.match(formatLeakReport(report), /2 of them without a stack of their own/);
  });

  it('keeps the handles the stack budget left without a stack apart from the one stacked site of their creator', function () {
    // The warm-up's handles had stacks; the late leaks, over budget, may come from a site never seen.
    const report = buildLeakReport([handle(['at serve (/app/server.js:10:5)']), handle(undefined, { site: OVER_BUDGET }), handle(undefined, { site: OVER_BUDGET })], 'exit');
    assert.deepEqual(report.groups.map((g) => [g.count, g.site, g.overBudget ?? 0, g.unsampled ?? 0]), [[2, '(no stack)', 2, 0], [1, '/app/server.js:10:5', 0, 0]]);
    assert.equal(report.overBudget, 2);
    assert.match(formatLeakReport(report), /no allocation stack: stack capture was over its CPU budget/);
  });

  it('keeps unsampled handles apart when several sites create that kind of handle', function () {
    const report = buildLeakReport([handle(['at a (/a.js:1:1)']), handle(['at b (/b.js:1:1)']), handle(undefined)], 'exit');
    assert.equal(report.groups.length, 3);
    assert.match(formatLeakReport(report), /no allocation stack/);
  });
});

describe('leak report over captured stacks', function () {
  const policy = stackPolicy('all', 8);
  function sspiCall() {
    return policy.forCreation('AcceptSecurityContext', sspiCall);
  }
  class Base {
    login() {
      return sspiCall();
    }
  }
  class A extends Base {}
  class B extends Base {}
  function deep(n) {
    return n === 0 ? sspiCall() : deep(n - 1);
  }

  it("groups as the stacks' text does, formatting one stack per distinct path with the app's Error.prepareStackTrace", function () {
    const sites = [];
    // One code position reached with two receiver types; recursion whose captured stacks differ
    // below the frames shown (three keys, one text); a builtin frame.
    for (let i = 0; i < 20; i++) sites.push(new A().login(), new B().login(), deep(8 + (i % 3)), [0].map(() => sspiCall())[0]);
    const saved = Error.prepareStackTrace;
    let formatted = 0;
    const hook = (_, callSites) => {
      formatted++;
      return `Error\n${callSites.map((c) => `    at app:${c}`).join('\n')}`;
    };
    Error.prepareStackTrace = hook;
    let report;
    try {
      sites[2].frames(); // formatted before the report, as a warning would
      report = buildLeakReport(sites.map((site) => handle(undefined, { site })), 'exit');
      assert.equal(Error.prepareStackTrace, hook, "the app's hook is back");
    } finally {
      Error.prepareStackTrace = saved;
    }
    const groups = report.groups.map((g) => [g.count, g.stack.length, g.stack[0].replace(/ \(.*/, '')]);
    assert.deepEqual(groups.slice(0, 3), [
      [20, 8, 'at app:A.login'],
      [20, 8, 'at app:B.login'],
      [20, 8, 'at app:deep'],
    ]);
    assert.equal(new Set(report.groups[2].stack.slice(1)).size, 1, 'eight frames of the recursion');
    assert.deepEqual(groups[3].slice(0, 2), [20, 8]);
    assert.equal(report.groups[3].stack[1], 'at app:Array.map (<anonymous>)');
    // A, B, three recursion depths, the arrow, and the one formatted before: seven, for 80 handles.
    assert.ok(formatted <= 7, `${formatted} stacks formatted for ${sites.length} handles`);
    assert.ok(sites.every((s) => s.frames().length === 8));
  });

  it('gives a site that stands for two handles (a context and its token buffer) its stack, and its key-mates theirs', function () {
    function login() {
      return sspiCall();
    }
    const shared = login();
    const mate = login();
    const other = new A().login();
    const report = buildLeakReport(
      [handle(undefined, { site: shared }), handle(undefined, { site: shared, kind: 'buffer' }), handle(undefined, { site: mate }), handle(undefined, { site: other })],
      'exit',
    );
    const sites = report.handles.map((h) => h.site);
    assert.ok(sites.every((site) => site !== '(no stack)'), sites.join(', '));
    assert.equal(sites[1], sites[0]);
    assert.equal(sites[2], sites[0], 'the same first frame (login)');
    assert.notEqual(sites[3], sites[0]);
    assert.ok(report.groups.every((g) => g.stack.length > 0), JSON.stringify(report.groups.map((g) => g.stack)));
    assert.ok([shared, mate, other].every((site) => site.frames().length > 0));
  });
});
