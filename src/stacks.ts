/**
 * Allocation stacks, captured cheaply on the hot path and formatted only when a report asks.
 * V8 records the raw frames at `captureStackTrace` and builds the text on first read of `.stack`,
 * so a handle that is released normally never pays for formatting.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, sep } from 'node:path';
import { agentError } from './diagnostics.js';
import type { AllocationSite } from './types.js';

/** The agent's own files, as a path (CommonJS-style frames) and as a URL (ES module frames). */
const AGENT_DIR = dirname(fileURLToPath(import.meta.url)) + sep;
const AGENT_URL = pathToFileURL(AGENT_DIR).href;

/** Frames that are not the app's: Node's internals, the agent, the FFI the app called through, and the OTel context plumbing an app's spans put on the stack. */
function isAppFrame(line: string): boolean {
  return (
    line.startsWith('    at ') &&
    !line.includes('node:internal') &&
    !line.includes('(node:') &&
    !line.includes(AGENT_DIR) &&
    !line.includes(AGENT_URL) &&
    !/[\\/]node_modules[\\/](koffi|@opentelemetry)[\\/]/.test(line)
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
    try {
      Error.captureStackTrace(this.holder, skipAbove);
    } finally {
      // The app's own limit comes back even when the capture throws.
      Error.stackTraceLimit = limit;
    }
  }

  frames(): string[] {
    if (!this.formatted) {
      let text = '';
      try {
        // Formatting runs the app's Error.prepareStackTrace, if it set one.
        text = this.holder.stack ?? '';
      } catch (err) {
        agentError('stacks.format', err);
      }
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

export type StackMode = 'all' | 'sampled' | 'off';

/**
 * When to pay for a stack (about 4–10 µs each on a small VM, more than an SSPI acquire+free):
 * `all` captures every allocation and release; `sampled` the first `SAMPLE_FIRST` calls of each
 * creating or releasing function and one in `SAMPLE_EVERY` after (no cheaper way to tell call sites
 * apart exists: naming the caller already costs a stack); `off` none. A call the guard stops always
 * gets one: that path is rare and its warning needs it.
 */
export interface StackPolicy {
  readonly mode: StackMode;
  forCreation(fn: string, skipAbove: Function): AllocationSite | undefined;
  forRelease(fn: string, skipAbove: Function): AllocationSite | undefined;
  always(skipAbove: Function): AllocationSite | undefined;
}

/** In `sampled` mode: how many allocations of each function always get a stack, then one in how many. */
export const SAMPLE_FIRST = 16;
export const SAMPLE_EVERY = 64;

export function stackPolicy(mode: StackMode, depth: number): StackPolicy {
  // A stack that cannot be captured (an app that replaced Error.captureStackTrace, say) costs the
  // stack only: the call is still tracked, and the guard still stops what it must.
  const capture = (skipAbove: Function): AllocationSite | undefined => {
    try {
      return new CapturedSite(depth, skipAbove);
    } catch (err) {
      agentError('stacks', err);
      return undefined;
    }
  };
  const seen = new Map<string, number>();
  const sampled = (fn: string, skipAbove: Function) => {
    if (mode === 'all') return capture(skipAbove);
    if (mode === 'off') return undefined;
    const n = (seen.get(fn) ?? 0) + 1;
    seen.set(fn, n);
    return n <= SAMPLE_FIRST || n % SAMPLE_EVERY === 0 ? capture(skipAbove) : undefined;
  };
  return { mode, forCreation: sampled, forRelease: sampled, always: capture };
}

/** `file:line` of the first app frame, the site key reports group by. */
export function siteLocation(site: AllocationSite | undefined): string {
  const top = site?.frames()[0];
  if (!top) return '(no stack)';
  const m = /\(([^()]+)\)$/.exec(top) ?? /^at (.+)$/.exec(top);
  return m ? m[1]! : top;
}
