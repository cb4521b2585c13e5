// Windows' own ways to end a console app — Ctrl+C, Ctrl+Break, the console window closing — sent to
// node.exe under Wine as Windows sends them (test/windows/support/console-event.mjs), to an app that
// leaked 3 contexts and 3 credentials. Run by scripts/windows-lane.sh only.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { jsonLines } from '../helpers/run-app.mjs';
import { describeOnEachNode, lane, runWineApp, windowsPath } from './support/wine.mjs';

const CTRL_C_EVENT = 0;
const CTRL_BREAK_EVENT = 1;
const CTRL_CLOSE_EVENT = 2;
/** What Windows' default console handler ends a process with: NTSTATUS 0xC000013A. */
const STATUS_CONTROL_C_EXIT = 0xc000013a;

/**
 * Starts the lifecycle scenario `leakThenEnd <how> [signal]` in a second node.exe, sends it `event`
 * once it is ready, and returns how it ended as a run of test/helpers/run-app.mjs (its exit code is
 * the full Windows one, as a Windows parent sees it).
 */
async function sendEvent(event, how, { agent = true, signal, env = {} } = {}) {
  const { stage } = lane();
  const app = [...(agent ? ['--import', 'sspi-agent'] : []), windowsPath(join(stage, 'test', 'fixtures', 'lifecycle', 'scenario.mjs')), 'leakThenEnd', how];
  if (signal) app.push(signal);
  const driver = await runWineApp(join(stage, 'test', 'windows', 'support', 'console-event.mjs'), { agent: false, args: [String(event), '30000', '--', ...app], env });
  const [ended] = driver.results;
  assert.ok(ended && driver.code === 0, `the driver failed\n--- stdout\n${driver.stdout}\n--- stderr\n${driver.stderr}`);
  assert.ok(ended.sent && !ended.timedOut, `the event was not sent, or did not end the app\n${JSON.stringify(ended, null, 2)}`);
  return { code: ended.exitCode, stdout: ended.stdout, stderr: ended.stderr, results: jsonLines(ended.stdout), report: driver.report };
}

function explain(run) {
  return `exit 0x${(run.code >>> 0).toString(16)}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

/** The ordered cleanup of SSPI_AGENT_CLEANUP=signals: every context deleted, then every credential freed. */
function assertOrderedCleanup(run) {
  assert.ok(run.report, `no report\n${explain(run)}`);
  assert.deepEqual(run.report.cleanup.map((c) => c.kind), ['context', 'context', 'context', 'credential', 'credential', 'credential'], explain(run));
  assert.ok(run.report.cleanup.every((c) => c.status === 'SEC_E_OK' && c.result === 'released'), JSON.stringify(run.report.cleanup));
}

describeOnEachNode('Windows: console events end the app as Windows would, after the exit report', function () {
  for (const [name, event, signal] of [
    ['Ctrl+Break', CTRL_BREAK_EVENT, 'SIGBREAK'],
    ['Ctrl+C', CTRL_C_EVENT, 'SIGINT'],
    ['the console closing', CTRL_CLOSE_EVENT, 'SIGHUP'],
  ]) {
    it(`${name} (${signal}), no handler of the app's: report, ordered cleanup, then exit code 0xC000013A`, async function () {
      const run = await sendEvent(event, 'wait', { env: { SSPI_AGENT_CLEANUP: 'signals' } });
      assert.equal(run.code, STATUS_CONTROL_C_EXIT, explain(run));
      assert.equal(run.report?.reason, signal, explain(run));
      assert.equal(run.report.total, 6);
      assertOrderedCleanup(run);
      assert.match(run.stderr, new RegExp(`6 SSPI handles still live at ${signal} \\(3 credentials, 3 contexts\\)`));
      assert.doesNotMatch(run.stderr, /internal error|ENOSYS|Node\.js v\d/, 'the agent ends the process without an error');
    });
  }

  for (const [name, event, signal] of [
    ['Ctrl+Break', CTRL_BREAK_EVENT, 'SIGBREAK'],
    ['Ctrl+C (a service wrapper stopping the app)', CTRL_C_EVENT, 'SIGINT'],
  ]) {
    it(`${name} with the app's own ${signal} handler: the app decides, the report comes at its exit`, async function () {
      const run = await sendEvent(event, 'handler', { signal, env: { SSPI_AGENT_CLEANUP: 'signals' } });
      assert.equal(run.code, 0, explain(run));
      assert.deepEqual(run.results.at(-1), { appHandler: signal }, explain(run));
      assert.equal(run.report?.reason, 'exit', explain(run));
      assert.deepEqual(run.report.cleanup, [], 'the cleanup is for signals the agent ends, not for the exit the app chose');
    });
  }

  it('without the agent, Ctrl+Break ends node.exe at once by the default handler (the delivery itself works)', async function () {
    const run = await sendEvent(CTRL_BREAK_EVENT, 'wait', { agent: false });
    // Windows' default handler exits with STATUS_CONTROL_C_EXIT; Wine 8.0's with 0.
    assert.ok([0, STATUS_CONTROL_C_EXIT].includes(run.code), explain(run));
    assert.equal(run.report, undefined);
    assert.equal(run.stderr, '');
  });
});
