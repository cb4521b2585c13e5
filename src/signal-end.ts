/**
 * Which signals end a process by default on this platform, and how to end it the same way once the
 * agent has done its exit work, so that whoever waits for the process cannot tell the agent was there.
 *
 * POSIX: re-raise the signal with the agent's listener gone; the process dies by it.
 *
 * Windows (libuv turns console events into signals): Ctrl+C is SIGINT, Ctrl+Break SIGBREAK, the
 * console window closing SIGHUP; SIGTERM is never delivered. Without a listener the console's default
 * handler ends the process at once, with exit code STATUS_CONTROL_C_EXIT, running no JavaScript. A
 * re-raise cannot do the same there: libuv's kill terminates with exit code 1 for SIGINT and has no
 * way at all to send SIGBREAK or SIGHUP (ENOSYS). So the agent exits with that code itself, through
 * the same native exit `process.exit()` ends in, without the 'exit' listeners the default handler
 * would not have run either.
 */
import { agentError } from './diagnostics.js';

// Taken from the built-in module, not imported: see "Start-up" in docs/architecture.md.
const { constants } = process.getBuiltinModule('node:os');

/** NTSTATUS 0xC000013A, "{Application Exit by CTRL+C}": the exit code of a console-event end. */
export const STATUS_CONTROL_C_EXIT = 0xc000013a;

export interface SignalEnd {
  /** The signals whose default end the agent takes over when the app has no handler of its own. */
  readonly signals: readonly NodeJS.Signals[];
  /** Ends the process as `signal` ends it without a listener; returns only with a test's stand-in process. */
  end(signal: NodeJS.Signals): void;
}

/** The parts of `process` an end uses (a test passes its own). */
export interface EndingProcess {
  readonly pid: number;
  kill(pid: number, signal: NodeJS.Signals): unknown;
  exit(code: number): void;
  /** Node's native exit, undocumented but what `process.exit()` calls after the 'exit' event. */
  reallyExit?: (code: number) => void;
}

/**
 * `signals` names the platform's signals (`os.constants.signals`): SIGBREAK exists on Windows only,
 * and a listener for a name Node does not know as a signal would be an ordinary event nobody emits.
 */
export function signalEnd(
  platform: NodeJS.Platform = process.platform,
  signals: Readonly<Record<string, number>> = constants.signals,
  proc: EndingProcess = process as EndingProcess,
): SignalEnd {
  const handled: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  if ('SIGBREAK' in signals) handled.push('SIGBREAK');
  const windows = platform === 'win32';

  function end(signal: NodeJS.Signals): void {
    // Should the platform's way fail, the process must still end: an app whose Ctrl+C does nothing
    // is worse than one that ends with a slightly different code.
    const fallback = windows ? STATUS_CONTROL_C_EXIT : 128 + (signals[signal] ?? 0);
    try {
      if (windows) (proc.reallyExit ?? proc.exit).call(proc, STATUS_CONTROL_C_EXIT);
      else proc.kill(proc.pid, signal);
    } catch (err) {
      agentError('signal-end', err);
      proc.exit(fallback);
    }
  }

  return { signals: handled, end };
}
