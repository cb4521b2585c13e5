/**
 * Runs the agent's start code (the bundle's chunk that the preload loads) from a V8 code cache.
 * Parsing and compiling that code was about half of what the agent's start cost an app: the chunk's
 * own compile, and then each function compiled at its first call. A cache made after a start holds
 * the functions that start ran, so the next start deserializes them instead.
 *
 * Node.js caches ES modules only through its compile cache, which an agent cannot turn on for its own
 * code alone: `module.enableCompileCache()` caches every module loaded after it, the app's too. So
 * the bundle writes the start chunk as a script, a function returning what the chunk exported, and
 * the chunk's module becomes a shim that runs it through here and re-exports the result
 * (scripts/start-script.mjs): the rest of the agent imports the same bindings as before.
 *
 * The cache is an optimisation and nothing more: without one (off, no safe directory, a file damaged
 * or rejected) the code is compiled as it would be anyway; SSPI_AGENT_DEBUG=1 says which.
 *
 * Only node: built-ins, taken from Node rather than imported: this folder is inlined into the shim,
 * before the agent's own code exists, and knows nothing of it.
 */
import { cachePlace } from './cache-place.js';
import { readCacheFile, writeCacheFile } from './cache-file.js';
import { debug } from './say.js';

const { readFileSync } = process.getBuiltinModule('node:fs');
const { Script } = process.getBuiltinModule('node:vm');
const { fileURLToPath } = process.getBuiltinModule('node:url');

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
  const source = readFileSync(path, code.ascii ? 'latin1' : 'utf8');
  const place = cachePlace(path, code.digest);
  const cachedData = place.file === undefined ? undefined : readCacheFile(place.file);
  const script = new Script(source, { filename: code.url.href, cachedData });
  const exports = (script.runInThisContext() as (moduleUrl: string) => Record<string, unknown>)(code.moduleUrl);
  if (place.file === undefined) debug(`start code compiled without a cache: ${place.why}`);
  else if (cachedData && !script.cachedDataRejected) debug(`start code run from its cache ${place.file}`);
  else {
    debug(`start code compiled (${cachedData ? 'V8 rejected its cache' : 'no cache to use'}); its cache is written to ${place.file}`);
    writeLater(script, place.file);
  }
  return exports;
}

/** Writes the cache once: at the process's exit, or WRITE_AFTER_MS after the start, whichever comes first. */
function writeLater(script: InstanceType<typeof Script>, file: string): void {
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    clearTimeout(timer);
    process.off('exit', write);
    try {
      writeCacheFile(file, script.createCachedData());
    } catch (err) {
      debug(`start code cache not written to ${file}: ${String(err)}`);
    }
  };
  const timer = setTimeout(write, WRITE_AFTER_MS).unref();
  process.on('exit', write);
}
