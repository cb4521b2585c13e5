/**
 * Allocation stacks, captured cheaply on the hot path and formatted only when a report asks.
 * V8 records the raw frames at `captureStackTrace` and builds the text on first read of `.stack`,
 * so a handle that is released normally never pays for formatting.
 */
import { fileURLToPath } from 'node:url';
import { dirname, sep } from 'node:path';
import type { AllocationSite } from './types.js';

/** The agent's own files: frames from here are never the app's. */
const AGENT_DIR = dirname(fileURLToPath(import.meta.url));

/** Frames that are not the app's: Node's internals, the agent, and the FFI the app called through. */
function isAppFrame(line: string): boolean {
  return (
    line.startsWith('    at ') &&
    !line.includes('node:internal') &&
    !line.includes('(node:') &&
    !line.includes(AGENT_DIR + sep) &&
    !/[\\/]node_modules[\\/]koffi[\\/]/.test(line)
  );
}

class CapturedSite implements AllocationSite {
  private readonly holder: { stack?: string } = {};
  private formatted: string[] | undefined;

  constructor(
    private readonly depth: number,
    skipAbove: Function,
  ) {
    const limit = Error.stackTraceLimit;
    // A few extra frames, since agent and FFI frames are dropped after capture.
    Error.stackTraceLimit = depth + 4;
    Error.captureStackTrace(this.holder, skipAbove);
    Error.stackTraceLimit = limit;
  }

  frames(): string[] {
    if (!this.formatted) {
      const text = this.holder.stack ?? '';
      this.formatted = text
        .split('\n')
        .filter(isAppFrame)
        .slice(0, this.depth)
        .map((line) => line.trim());
      delete this.holder.stack;
    }
    return this.formatted;
  }
}

export type StackCapturer = (skipAbove: Function) => AllocationSite | undefined;

export function stackCapturer(mode: 'all' | 'off', depth: number): StackCapturer {
  if (mode === 'off') return () => undefined;
  return (skipAbove) => new CapturedSite(depth, skipAbove);
}

/** `file:line` of the first app frame, the site key reports group by. */
export function siteLocation(site: AllocationSite | undefined): string {
  const top = site?.frames()[0];
  if (!top) return '(no stack)';
  const m = /\(([^()]+)\)$/.exec(top) ?? /^at (.+)$/.exec(top);
  return m ? m[1]! : top;
}
