/**
 * The agent's own voice: warnings on stderr prefixed with `sspi-agent:`, each distinct problem said
 * once, and a count of internal errors by where they happened. An exception inside the agent must
 * never reach the app, so every hook and exporter routes its failures here.
 */

// Taken from the built-in module, not imported: see "Start-up" in docs/architecture.md.
const { writeSync } = process.getBuiltinModule('node:fs');

const PREFIX = 'sspi-agent: ';
const saidOnce = new Set<string>();
const errorCounts = new Map<string, number>();
let debugEnabled = false;
let sink: (text: string) => void = writeStderrSync;

export function setDebug(enabled: boolean): void {
  debugEnabled = enabled;
}

/** Synchronous: a warning or the exit report must not be lost when the process ends right after. */
function writeStderrSync(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // stderr closed: nowhere left to say anything.
  }
}

/** Where the agent's messages go: stderr unless redirected (tests, or an app that wants them). */
export function setMessageSink(write: (text: string) => void): void {
  sink = write;
}

export function writeStderr(text: string): void {
  sink(text.endsWith('\n') ? text : text + '\n');
}

export function warn(message: string): void {
  writeStderr(PREFIX + message);
}

/** Warns the first time `topic` comes up; later calls with the same topic are silent. */
export function warnOnce(topic: string, message: string): void {
  if (saidOnce.has(topic)) return;
  saidOnce.add(topic);
  warn(message);
}

/** Startup and hook diagnostics, silent unless SSPI_AGENT_DEBUG asks for them. */
export function debug(message: string): void {
  if (debugEnabled) writeStderr(PREFIX + '[debug] ' + message);
}

/**
 * An error as text, without ever throwing: reading `.stack` runs the app's Error.prepareStackTrace,
 * and `String(err)` its toString, either of which may throw.
 */
function describeError(err: unknown): string {
  try {
    return err instanceof Error ? err.stack ?? err.message : String(err);
  } catch {
    try {
      return err instanceof Error ? `${err.name}: ${err.message}` : typeof err;
    } catch {
      return 'an error that cannot be described';
    }
  }
}

/** Counts an internal failure under `where` and logs the first one of each `where`; never throws. */
export function agentError(where: string, err: unknown): void {
  errorCounts.set(where, (errorCounts.get(where) ?? 0) + 1);
  if (saidOnce.has('error:' + where)) return;
  warnOnce('error:' + where, `internal error in ${where} (the app's call was not affected): ${describeError(err)}`);
}

/** Internal error counts by place, for `sspi_agent_errors_total{where}`. */
export function agentErrorCounts(): ReadonlyMap<string, number> {
  return errorCounts;
}
