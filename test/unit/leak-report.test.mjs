import assert from 'node:assert/strict';
import { buildLeakReport, formatLeakReport } from '../../dist/exporters/leak-report.js';

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
    assert.match(formatLeakReport(report), /2 of them without a sampled stack of their own/);
  });

  it('keeps unsampled handles apart when several sites create that kind of handle', function () {
    const report = buildLeakReport([handle(['at a (/a.js:1:1)']), handle(['at b (/b.js:1:1)']), handle(undefined)], 'exit');
    assert.equal(report.groups.length, 3);
    assert.match(formatLeakReport(report), /no allocation stack/);
  });
});
