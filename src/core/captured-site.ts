/**
 * Allocation stacks, captured cheaply on the hot path and formatted only when a report asks.
 * V8 records the raw frames at `captureStackTrace` and builds the text on first read of `.stack`,
 * so a handle that is released normally never pays for formatting.
 */
import { agentError } from '../diagnostics.js';
import type { AllocationSite } from '../types.js';

// Taken from the built-in modules, not imported: see "Start-up" in docs/architecture.md.
const { fileURLToPath, pathToFileURL } = process.getBuiltinModule('node:url');
const { dirname, sep } = process.getBuiltinModule('node:path');

/** The agent's own files, as a path (CommonJS-style frames) and as a URL (ES module frames). */
// This module is in dist/core/: the agent is all of dist/.
const AGENT_DIR = dirname(dirname(fileURLToPath(import.meta.url))) + sep;
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

/** The first `depth` app frames of a formatted stack, trimmed. */
function appFrames(text: unknown, depth: number): string[] {
  // An app's Error.prepareStackTrace may return anything; only text has frames to show.
  if (typeof text !== 'string') return [];
  return text
    .split('\n')
    .filter(isAppFrame)
    .slice(0, depth)
    .map((line) => line.trim());
}

/** Marks a builtin frame's parts in a key, apart from a file's. */
const BUILTIN = Symbol('builtin frame');

/** Thrown by the report's key hook to leave a stack unformatted: V8 keeps the raw frames when formatting throws. */
const KEEP_RAW = Symbol('sspi-agent: format later');

/** Nested maps, one level per part of a compound key: no key string built and hashed per lookup. */
export class KeyTrie<T> {
  private readonly next = new Map<unknown, KeyTrie<T>>();
  value: T | undefined;

  at(part: unknown): KeyTrie<T> {
    let node = this.next.get(part);
    if (!node) this.next.set(part, (node = new KeyTrie<T>()));
    return node;
  }
}

export class CapturedSite implements AllocationSite {
  private readonly holder: { stack?: unknown } = {};
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
      let text: unknown;
      try {
        // Formatting runs the app's Error.prepareStackTrace, if it set one.
        text = this.holder.stack;
      } catch (err) {
        agentError('stacks.format', err);
      }
      this.formatted = appFrames(text, this.depth);
      delete this.holder.stack;
    }
    return this.formatted;
  }

  /**
   * Fills the frames of many sites, formatting one stack per distinct allocation path: V8's text
   * costs ~10 µs a stack (names and positions of every frame, then split and filtered), seconds for
   * the 100k leaks of an exit report, when for all but a few it only decides the group.
   *
   * So first, under a temporary Error.prepareStackTrace, each stack is keyed from V8's structured
   * frames (~3 µs): file, source position and receiver type of each frame, the parts the text of one
   * call path can vary in (`A.m` from `B.m` at one position; Node's internals skipped, the text drops
   * them). The first stack of each key throws out of the hook, which leaves V8's raw frames in place;
   * the others are consumed. Then, with the app's hook back, only those first stacks are formatted,
   * the ordinary way (app's hook, source maps), and their frames shared. A key is finer than the
   * text, bar a function renamed at run time or reached under another method name from the same
   * callers; where finer (two positions source-mapped to one line), the report merges by text.
   */
  static formatMany(sites: Iterable<AllocationSite | undefined>): void {
    // Per key, its sites: the first one's text is formatted, for all of them.
    const root = new KeyTrie<CapturedSite[]>();
    const keys: CapturedSite[][] = [];
    let site: CapturedSite | undefined;
    let keyed = false;
    // Whether a file's frames are shown (isAppFrame on the text), by file: few files, many frames.
    const shownFiles = new Map<string, boolean>();
    const isShownFile = (file: string) => {
      let shown = shownFiles.get(file);
      if (shown === undefined) shownFiles.set(file, (shown = isAppFrame(`    at f (${file}:1:1)`)));
      return shown;
    };
    // With V8's own text, frame i is line i: frames past the last one shown cannot change it. An
    // app's hook may write other lines, so then every frame counts.
    const ownText = Error.prepareStackTrace === undefined;
    const keyOf = (_: Error, callSites: NodeJS.CallSite[]): undefined => {
      const depth = ownText ? site!.depth : Infinity;
      let node = root.at(depth);
      let shown = 0;
      for (const c of callSites) {
        // Frames below the last one shown do not change the text.
        if (shown === depth) break;
        const file = c.getFileName();
        if (file) {
          if (!isShownFile(file)) {
            if (!ownText) node = node.at(file).at(c.getPosition());
            continue;
          }
          shown++;
          // `at async f` and `at new F` differ in text from `at f` / `at F` at the same position.
          // (Folded into the position: one map level less per frame, for 100k stacks.)
          const flags = (c.isAsync() ? 1 : 0) | (c.isConstructor() ? 2 : 0);
          node = node.at(file).at(c.getPosition() * 4 + flags).at(c.getTypeName());
          continue;
        }
        shown++;
        if (c.isEval()) {
          node = node.at(String(c)); // where the eval was called from is in its text only
        } else {
          // A builtin (`Array.map`, `async Promise.all (index 1)`): no position; its text costs ~1 µs.
          node = node.at(BUILTIN).at(c.getFunctionName()).at(c.getTypeName()).at(c.getPromiseIndex());
        }
      }
      keyed = true;
      if (node.value) {
        node.value.push(site!);
        return undefined;
      }
      keys.push((node.value = [site!]));
      throw KEEP_RAW;
    };
    const hadOwn = Object.prototype.hasOwnProperty.call(Error, 'prepareStackTrace');
    const previous = Error.prepareStackTrace;
    try {
      Error.prepareStackTrace = keyOf;
    } catch {
      return; // a frozen Error: each site formats its own stack, as before
    }
    let failure: unknown;
    // One site can stand for several handles (a first ISC/ASC's context and the token buffer SSPI
    // allocated for it): read a second time, its stack would be the key hook's `undefined`.
    const seen = new Set<CapturedSite>();
    try {
      for (const s of sites) {
        if (!(s instanceof CapturedSite) || s.formatted || seen.has(s)) continue;
        seen.add(s);
        site = s;
        keyed = false;
        let text: unknown;
        try {
          text = s.holder.stack;
        } catch (err) {
          // KEEP_RAW, or the key failed: either way V8 still holds the frames for frames().
          if (err !== KEEP_RAW) failure ??= err;
        }
        if (!keyed && text !== undefined) {
          // Formatted by a hook other than the key's (Error.prepareStackTrace would not take it): use that text.
          s.formatted = appFrames(text, s.depth);
          delete s.holder.stack;
        }
      }
    } finally {
      if (hadOwn) Error.prepareStackTrace = previous;
      else Reflect.deleteProperty(Error, 'prepareStackTrace');
    }
    if (failure !== undefined) agentError('stacks.key', failure);
    // The app's hook is back: each key's first site formats as ever, the others share its frames.
    // (V8 keeps the key hook's `undefined` in place of the others' raw frames: nothing left to free.)
    for (const same of keys) {
      const frames = same[0]!.frames();
      for (const s of same) s.formatted = frames;
    }
  }
}

/** A stack for a call of `skipAbove`'s, or undefined when it cannot be captured (an app that replaced Error.captureStackTrace, say): that costs the stack only. */
export function captureSite(depth: number, skipAbove: Function): AllocationSite | undefined {
  try {
    return new CapturedSite(depth, skipAbove);
  } catch (err) {
    agentError('stacks', err);
    return undefined;
  }
}

/**
 * Formats the stacks of many sites at once, one V8 formatting per distinct stack (see
 * CapturedSite.formatMany); afterwards their frames() answer from cache, sites with one stack
 * sharing one array. Sites the agent did not capture are left alone.
 */
export function formatSites(sites: Iterable<AllocationSite | undefined>): void {
  CapturedSite.formatMany(sites);
}
