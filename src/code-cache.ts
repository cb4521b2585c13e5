/**
 * Runs the agent's start code (the bundle's chunk that the preload loads) from a V8 code cache.
 * Parsing and compiling that code is about half of what the agent's start costs an app: the chunk's
 * own compile, and then each function compiled at its first call. A code cache made after a start
 * holds the functions that start ran, so the next start deserializes them instead.
 *
 * Node.js offers this for ES modules only as its compile cache, which an agent cannot turn on for
 * its own code alone: `module.enableCompileCache()` caches every module loaded after it, the app's
 * too. So the bundle (scripts/bundle.mjs) writes the start chunk as a script, a function returning
 * what the chunk exported, and the chunk's module becomes a shim that runs it through here and
 * re-exports the result: the rest of the agent imports the same bindings as before.
 *
 * The cache is an optimisation and nothing more: any failure (no directory, a read-only one, a file
 * V8 rejects) compiles the code as without it, and says why under SSPI_AGENT_DEBUG only.
 *
 * Only node: built-ins here, taken from Node rather than imported: this module is inlined into the
 * shim, before the agent's own code exists.
 */
import type { Stats } from 'node:fs';
import { switchValue } from './switches.js';

const fs = process.getBuiltinModule('node:fs');
const { Script } = process.getBuiltinModule('node:vm');
const { dirname, isAbsolute, join } = process.getBuiltinModule('node:path');
const { tmpdir } = process.getBuiltinModule('node:os');
const { fileURLToPath } = process.getBuiltinModule('node:url');

/** The variable: an off word turns the cache off, an absolute path is its directory; anything else is the default directory. */
export const CODE_CACHE_VARIABLE = 'SSPI_AGENT_CODE_CACHE';

/** Cache files kept in the directory (one per build of the agent, Node.js release and architecture). */
export const KEPT_FILES = 32;

/**
 * How long after the start a cache is written if the process has not ended by then: a server writes
 * it early, and a short job at its exit.
 */
const WRITE_AFTER_MS = 2000;

/** What the shim hands over: the script, and what the build knows of it. */
export interface StartCode {
  /** The script: a function expression taking the shim's `import.meta.url`. */
  readonly url: URL;
  /** A digest of the script's text, taken at build time. */
  readonly digest: string;
  /**
   * Whether the text is ASCII, read then as one-byte text, the quickest way in. The bundle is (esbuild
   * escapes the rest, and drops the comments); the one kept readable for profiles is not.
   */
  readonly ascii: boolean;
  /** The shim's own `import.meta.url`, which the code reads as its own. */
  readonly moduleUrl: string;
}

/** Runs the start code and returns its exports. */
export function runStartCode(code: StartCode): Record<string, unknown> {
  const path = fileURLToPath(code.url);
  const source = fs.readFileSync(path, code.ascii ? 'latin1' : 'utf8');
  const place = cacheFile(path, code.digest);
  const cachedData = place.file === undefined ? undefined : readCache(place.file);
  const script = new Script(source, { filename: code.url.href, cachedData });
  const exports = (script.runInThisContext() as (moduleUrl: string) => Record<string, unknown>)(code.moduleUrl);
  if (place.file === undefined) debug(`start code compiled without a cache: ${place.why}`);
  else if (cachedData && !script.cachedDataRejected) debug(`start code run from its cache ${place.file}`);
  else {
    debug(`start code compiled (${cachedData ? 'its cache was rejected' : 'no cache yet'}); its cache is written to ${place.file}`);
    writeLater(() => script.createCachedData(), place.file);
  }
  return exports;
}

/** The cache file for this build of the code on this Node.js, or why there is none. */
function cacheFile(codePath: string, digest: string): { file: string; why?: undefined } | { file?: undefined; why: string } {
  const setting = process.env[CODE_CACHE_VARIABLE]?.trim();
  if (switchValue(setting) === false) return { why: `${CODE_CACHE_VARIABLE}=${setting}` };
  // The settings table's rule (config.ts): an absolute path is the directory; any other value is
  // warned about there, and the default holds.
  const dir = setting && isAbsolute(setting) ? setting : defaultDirectory();
  try {
    const why = unsafeDirectory(dir);
    if (why) return { why };
    // The digest names the build; size and time guard against the file being edited since (V8
    // itself checks only the length of the source a cache was made from). V8 rejects a cache made
    // under other V8 flags: processes started with other options keep files of their own rather
    // than overwrite each other's.
    const stat = fs.statSync(codePath);
    const options = `${process.execArgv.join('\0')}\0${process.env.NODE_OPTIONS ?? ''}`;
    const name = [digest, stat.size, Math.trunc(stat.mtimeMs), process.version, process.arch, fnv1a(options)].join('-');
    return { file: join(dir, `${name}.v8cache`) };
  } catch (err) {
    return { why: `${dir}: ${String(err)}` };
  }
}

/** A short digest of a short text (FNV-1a, 32 bits), in hex: node:crypto would cost the start more than the cache saves. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** Beside Node's own compile cache: under the temporary directory, one per user. */
function defaultDirectory(): string {
  const user = process.getuid?.();
  return join(tmpdir(), user === undefined ? 'sspi-agent-code-cache' : `sspi-agent-code-cache-${user}`);
}

/**
 * Why the directory must not hold code the agent runs, or undefined when it may. A cache is code:
 * one that others can write could run theirs in the app, so the directory must be this user's own
 * and writable by no one else (on POSIX; a Windows temporary directory is the user's own).
 */
function unsafeDirectory(dir: string): string | undefined {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat: Stats = fs.lstatSync(dir);
  if (!stat.isDirectory()) return `${dir} is not a directory`;
  const user = process.getuid?.();
  if (user === undefined) return undefined;
  if (stat.uid !== user) return `${dir} belongs to another user (uid ${stat.uid})`;
  if (stat.mode & 0o022) return `${dir} can be written by others (mode ${(stat.mode & 0o777).toString(8)})`;
  return undefined;
}

function readCache(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Writes the cache once: at the process's exit, or WRITE_AFTER_MS after the start, whichever comes first. */
function writeLater(make: () => Buffer, file: string): void {
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    clearTimeout(timer);
    process.off('exit', write);
    try {
      writeAtomically(file, make());
      prune(file);
    } catch (err) {
      debug(`code cache not written to ${file}: ${String(err)}`);
    }
  };
  const timer = setTimeout(write, WRITE_AFTER_MS).unref();
  process.on('exit', write);
}

/** Other processes may read the file at any moment: it appears whole or not at all. */
function writeAtomically(file: string, data: Buffer): void {
  const partial = `${file}.${process.pid}.${process.getBuiltinModule('node:worker_threads').threadId}.partial`;
  fs.writeFileSync(partial, data, { mode: 0o600 });
  try {
    fs.renameSync(partial, file);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw err;
  }
}

/** Keeps the KEPT_FILES newest caches of the directory: each build and Node.js release writes one of its own. */
function prune(file: string): void {
  const dir = dirname(file);
  const caches = fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.v8cache'))
    .map((name) => ({ path: join(dir, name), at: fs.statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => b.at - a.at);
  for (const old of caches.slice(KEPT_FILES)) fs.rmSync(old.path, { force: true });
}

/** As diagnostics.ts's `debug` writes (that module is part of the code this runs). */
function debug(message: string): void {
  if (switchValue(process.env.SSPI_AGENT_DEBUG) !== true) return;
  try {
    fs.writeSync(2, `sspi-agent: [debug] ${message}\n`);
  } catch {
    // stderr closed: nothing to say it on
  }
}
