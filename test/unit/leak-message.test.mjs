// What a test plugin says of a test's leaks, against what the exit report says of the same site.
import assert from 'node:assert/strict';
import { formatLeakReport } from '../../dist/exporters/leak-report.js';
import { leakMessage } from '../../dist/test-runners/leak-message.js';

/** A Negotiate context that ran Kerberos, made at a test's line, with a frame below it. */
function site(extra = {}) {
  return {
    kind: 'context', package: 'Negotiate', negotiated: 'Kerberos', direction: 'outbound', createdBy: 'InitializeSecurityContextW',
    library: 'secur32.dll', count: 2, oldestAgeSeconds: 0.5, site: `${process.cwd()}/test/login.spec.mjs:12:7`,
    stack: [`at login (${process.cwd()}/test/login.spec.mjs:12:7)`, `at Context.<anonymous> (${process.cwd()}/test/login.spec.mjs:30:5)`, 'at callFn (/deps/mocha/runnable.js:1:1)'],
    handleIds: [4, 5], ...extra,
  };
}

describe('test plugin leak message', function () {
  const owner = { kind: 'test', title: 'logins forget a context', file: `${process.cwd()}/test/login.spec.mjs` };

  it('names the package as the exit report does, negotiated one included', function () {
    const message = leakMessage(owner, [site()]);
    assert.match(message, /^ {2}2 contexts \[Negotiate \(negotiated Kerberos\), outbound\] created by InitializeSecurityContextW at test\/login\.spec\.mjs:12:7$/m);
    const report = formatLeakReport({ pid: 1, reason: 'exit', total: 2, byKind: { credential: 0, context: 2, buffer: 0 }, groups: [site()], cleanup: [], suppressed: 0 });
    assert.match(report, /\[Negotiate \(negotiated Kerberos\), outbound\]/, 'the exit report writes it the same way');
  });

  it('shows the frames down to the test’s own file, its paths relative, and nothing when all is suppressed', function () {
    const lines = leakMessage(owner, [site()]).split('\n');
    assert.equal(lines[0], 'sspi-agent: test "logins forget a context" (test/login.spec.mjs) left 2 SSPI handles live:');
    assert.deepEqual(lines.slice(2), ['      at Context.<anonymous> (test/login.spec.mjs:30:5)']);
    assert.equal(leakMessage(owner, [site({ suppressedBy: 'known' })]), undefined);
  });
});
