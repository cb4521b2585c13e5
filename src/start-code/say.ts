/**
 * What the start code's loader says, on stderr as diagnostics.ts writes (that module is part of the
 * code the loader runs, so it cannot be used here). A warning is the main thread's to give: every
 * worker thread's agent loads the same start code and would repeat it.
 */
import { switchValue } from '../switches.js';

const { writeSync } = process.getBuiltinModule('node:fs');

function write(text: string): void {
  try {
    writeSync(2, `sspi-agent: ${text}\n`);
  } catch {
    // stderr closed: nothing to say it on
  }
}

export function warn(message: string): void {
  if (process.getBuiltinModule('node:worker_threads').isMainThread) write(message);
}

export function debug(message: string): void {
  if (switchValue(process.env.SSPI_AGENT_DEBUG) === true) write(`[debug] ${message}`);
}
