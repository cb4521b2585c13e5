// The node-expose-sspi hook on the real addon: its prebuilt win32-x64 binary, loaded by Windows'
// node.exe under Wine, calling Wine's secur32.dll. Run by scripts/windows-lane.sh only.
import assert from 'node:assert/strict';
import { describeOnEachNode, explain, runWineApp } from './support/wine.mjs';

const INVALID_HANDLE_ERROR = /\(error code: 0x80090301\)/;

describeOnEachNode('Windows: node-expose-sspi, its prebuilt addon', function () {
  it('tracks the addon’s string handles: balanced handshakes end with 0 live, leaks are reported with file:line', async function () {
    const run = await runWineApp('node-expose-sspi/api.cjs', { args: ['5'] });
    assert.equal(run.code, 0, explain(run));
    const [balanced, guard, leaked] = run.results;
    assert.ok(leaked, explain(run));
    assert.deepEqual(balanced.statuses, ['SEC_E_OK,SEC_E_OK'], explain(run));
    assert.equal(balanced.live, 0, 'balanced handshakes end with 0 live');
    assert.deepEqual(balanced.lines.sort(), [
      'sspi_handles_closed_total{kind="context",package="Negotiate"} 10',
      'sspi_handles_closed_total{kind="credential",package="Negotiate"} 10',
      'sspi_handles_opened_total{kind="context",package="Negotiate"} 10',
      'sspi_handles_opened_total{kind="credential",package="Negotiate"} 10',
    ]);

    // The guard stops both calls before they reach SSPI, and the app sees the addon's own error.
    assert.equal(guard.firstDelete, 'ok');
    assert.match(guard.secondDelete, /^Cannot DeleteSecurityContext: secStatus: /);
    assert.match(guard.secondDelete, INVALID_HANDLE_ERROR);
    assert.match(guard.useAfterFree, /^Cannot InitializeSecurityContext: /);
    assert.match(guard.useAfterFree, INVALID_HANDLE_ERROR);
    assert.match(run.stderr, /second release of context #\d+ \(created by InitializeSecurityContextW, released by DeleteSecurityContext\) stopped/);

    assert.deepEqual(leaked.live, [
      'credential outbound NTLM AcquireCredentialsHandleW node-expose-sspi',
      'context outbound NTLM InitializeSecurityContextW node-expose-sspi',
    ]);
    const sites = run.report.groups.map((g) => `${g.kind} ${g.site.replace(/^.*\\/, '')}`).sort();
    assert.deepEqual(sites, ['context api.cjs:58:8', 'credential api.cjs:57:23']);
  });

  it('forced cleanup releases the addon’s handles with its own DeleteSecurityContext / FreeCredentialsHandle', async function () {
    const run = await runWineApp('node-expose-sspi/api.cjs', { args: ['1'], env: { SSPI_AGENT_CLEANUP: 'exit' } });
    assert.equal(run.code, 0, explain(run));
    assert.deepEqual(
      run.report.cleanup.map((c) => `${c.kind} ${c.function} ${c.status} ${c.result}`),
      ['context DeleteSecurityContext SEC_E_OK released', 'credential FreeCredentialsHandle SEC_E_OK released'],
      explain(run),
    );
  });

  it("catches the contexts sso.auth() leaks on rejected and abandoned logins, at the middleware's own line", async function () {
    const rejected = 3;
    const abandoned = 1;
    const run = await runWineApp('node-expose-sspi/sso-server.cjs', { args: [String(rejected), String(abandoned)] });
    assert.equal(run.code, 0, explain(run));
    const [{ logins }] = run.results;
    assert.equal(logins.length, rejected + abandoned, explain(run));
    for (const login of logins.slice(0, rejected)) {
      assert.equal(login.answer, 401);
      assert.match(login.body, /SEC_E_LOGON_DENIED/);
    }
    const contexts = run.report.groups.filter((g) => g.kind === 'context');
    assert.equal(contexts.length, 1, 'one allocation site: the middleware');
    const [group] = contexts;
    assert.equal(group.count, rejected + abandoned);
    assert.equal(group.direction, 'inbound');
    assert.equal(group.package, 'Negotiate');
    // The browser's NTLM tokens, read from the addon's ArrayBuffers: the abandoned logins' too.
    assert.equal(group.negotiated, 'NTLM');
    assert.equal(group.createdBy, 'AcceptSecurityContext');
    assert.equal(group.library, 'node-expose-sspi');
    assert.match(group.site, /\\node_modules\\node-expose-sspi\\dist\\sso\\auth\.js:\d+:\d+$/);
    assert.deepEqual(group.history.map((h) => h.replace(/ \+\d+ms$/, '')), ['AcceptSecurityContext SEC_I_CONTINUE_NEEDED', 'AcceptSecurityContext SEC_E_LOGON_DENIED']);
    const histories = run.report.handles.filter((h) => h.kind === 'context').map((h) => h.history.at(-1).replace(/ \+\d+ms$/, ''));
    assert.deepEqual(histories, [...Array(rejected).fill('AcceptSecurityContext SEC_E_LOGON_DENIED'), 'AcceptSecurityContext SEC_I_CONTINUE_NEEDED']);
    assert.match(run.stderr, new RegExp(`Leak of ${rejected + abandoned} contexts \\[Negotiate \\(negotiated NTLM\\), inbound\\] created by AcceptSecurityContext \\(node-expose-sspi\\)`));
  });
});
