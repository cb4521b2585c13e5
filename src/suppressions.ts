/**
 * Leak suppressions, as LeakSanitizer has them: a file of patterns, one per line, matched against
 * each frame of a leak's allocation stack and its creating function. A line of several patterns
 * separated by `;` matches a leak only when each of them does (one site's frames, as `sspi-agent
 * baseline` writes them). Matching leaks are still reported, as suppressed, and do not fail the process.
 */

// Taken from the built-in module, not imported: see "Start-up" in docs/architecture.md.
const { readFileSync } = process.getBuiltinModule('node:fs');

export interface Suppressions {
  /** The pattern that suppresses a leak with these frames, if any. */
  match(frames: readonly string[], createdBy: string): string | undefined;
}

function toRegExp(pattern: string): RegExp {
  return new RegExp(pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*'));
}

export function parseSuppressions(text: string): Suppressions {
  const patterns = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.replace(/^leak:/, ''))
    .map((pattern) => ({ pattern, parts: pattern.split(';').map((part) => toRegExp(part.trim())) }));
  return {
    match(frames, createdBy) {
      return patterns.find(({ parts }) => parts.every((re) => re.test(createdBy) || frames.some((f) => re.test(f))))?.pattern;
    },
  };
}

/** Reads the file; a missing or unreadable file is reported and suppresses nothing. */
export function loadSuppressions(path: string, report: (message: string) => void): Suppressions | undefined {
  if (!path) return undefined;
  try {
    return parseSuppressions(readFileSync(path, 'utf8'));
  } catch (err) {
    report(`SSPI_AGENT_SUPPRESSIONS=${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); no leak is suppressed`);
    return undefined;
  }
}
