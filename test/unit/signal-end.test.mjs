// How a signal ends the process after the agent's exit work, per platform (src/signal-end.ts), and the
// process end driving it. Windows' own path runs here on Linux with a stand-in process: SIGBREAK is
// an ordinary event on Linux, so emitting it exercises the agent's handler without ending mocha. The
// real console events are sent to node.exe in test/windows/console-events.wine.mjs.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../dist/config-reader.js';
import { agentErrorCounts, setMessageSink } from '../../dist/diagnostics.js';
import { installProcessEnd } from '../../dist/process-end.js';
import { HandleRegistry } from '../../dist/core/registry.js';
import { signalEnd, STATUS_CONTROL_C_EXIT } from '../../dist/signal-end.js';

/** `os.constants.signals` as Node has it on Windows. */
const WINDOWS_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGILL: 4, SIGFPE: 8, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15, SIGBREAK: 21, SIGABRT: 22, SIGWINCH: 28 };
const LINUX_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** A process that records how it was told to end instead of ending. */
function standIn({ killThrows = false } = {}) {
  const calls = [];
  return {
    calls,
    pid: 4242,
    kill(pid, signal) {
      calls.push(['kill', pid, signal]);
      if (killThrows) throw Object.assign(new Error('kill ENOSYS'), { code: 'ENOSYS' });
    },
    exit: (code) => calls.push(['exit', code]),
    reallyExit: (code) => calls.push(['reallyExit', code]),
  };
}

describe('signal end', function () {
  it('listens to SIGBREAK where the platform has it (Windows), and not on Linux', function () {
    assert.deepEqual(signalEnd('win32', WINDOWS_SIGNALS).signals, ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']);
    assert.deepEqual(signalEnd('linux', LINUX_SIGNALS).signals, ['SIGINT', 'SIGTERM', 'SIGHUP']);
    // This process's own platform: Linux has no SIGBREAK.
    assert.deepEqual(signalEnd().signals, ['SIGINT', 'SIGTERM', 'SIGHUP']);
  });

  it("ends on Windows with the default console handler's exit code, through the native exit (no 'exit' listeners)", function () {
    for (const signal of ['SIGINT', 'SIGBREAK', 'SIGHUP']) {
      const proc = standIn();
      signalEnd('win32', WINDOWS_SIGNALS, proc).end(signal);
      assert.deepEqual(proc.calls, [['reallyExit', STATUS_CONTROL_C_EXIT]], signal);
    }
    assert.equal(STATUS_CONTROL_C_EXIT, 3221225786);
  });

  it('re-raises the signal on POSIX, so the process dies by it', function () {
    const proc = standIn();
    signalEnd('linux', LINUX_SIGNALS, proc).end('SIGTERM');
    assert.deepEqual(proc.calls, [['kill', 4242, 'SIGTERM']]);
  });

  it("still ends the process when the platform's way fails: one internal error, then process.exit", function () {
    const before = agentErrorCounts().get('signal-end') ?? 0;
    const messages = [];
    setMessageSink((m) => messages.push(m));
    try {
      const proc = standIn({ killThrows: true });
      signalEnd('linux', LINUX_SIGNALS, proc).end('SIGTERM');
      assert.deepEqual(proc.calls, [['kill', 4242, 'SIGTERM'], ['exit', 128 + 15]]);
    } finally {
      setMessageSink((m) => process.stderr.write(m));
    }
    assert.equal(agentErrorCounts().get('signal-end'), before + 1);
    assert.match(messages.join(''), /internal error in signal-end .*kill ENOSYS/);
  });

  describe("the process end on Windows' SIGBREAK (emitted in-process)", function () {
    let dir;
    let messages;
    beforeEach(function () {
      dir = mkdtempSync(join(tmpdir(), 'sspi-agent-signal-end-'));
      messages = [];
      setMessageSink((m) => messages.push(m));
    });
    afterEach(function () {
      setMessageSink((m) => process.stderr.write(m));
      rmSync(dir, { recursive: true, force: true });
    });

    function install() {
      const registry = new HandleRegistry();
      registry.open({ kind: 'credential', key: '1.2', package: 'NTLM', direction: 'outbound', createdBy: 'AcquireCredentialsHandleW', library: 'secur32.dll' });
      const reportFile = join(dir, 'report.json');
      const config = readConfig({ SSPI_AGENT_REPORT_FILE: reportFile }, () => {});
      const proc = standIn();
      const end = installProcessEnd(registry, config, undefined, { ending: signalEnd('win32', WINDOWS_SIGNALS, proc) });
      return { end, proc, report: () => JSON.parse(readFileSync(reportFile, 'utf8')) };
    }

    it('writes the exit report, then ends as Windows does', function () {
      const { end, proc, report } = install();
      try {
        process.emit('SIGBREAK', 'SIGBREAK');
        assert.deepEqual(proc.calls, [['reallyExit', STATUS_CONTROL_C_EXIT]]);
        assert.equal(report().reason, 'SIGBREAK');
        assert.equal(report().total, 1);
        assert.match(messages.join(''), /1 SSPI handle still live at SIGBREAK/);
        assert.equal(process.listenerCount('SIGBREAK'), 0, 'the agent lets go of the signal before ending');
      } finally {
        end.uninstall();
      }
    });

    it("leaves SIGBREAK to the app's own handler", function () {
      const { end, proc } = install();
      const own = () => {};
      process.on('SIGBREAK', own);
      try {
        process.emit('SIGBREAK', 'SIGBREAK');
        assert.deepEqual(proc.calls, []);
        assert.deepEqual(messages, []);
      } finally {
        process.off('SIGBREAK', own);
        end.uninstall();
      }
    });
  });
});
