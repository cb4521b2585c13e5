/**
 * The cache file: V8's code cache for the start code, written whole or not at all, read only when it
 * is the user's own and intact. It holds the cache twice, behind a header (a tag and the length):
 * V8 checks a cache's header (its version, flags and source length) but not its bytes (release
 * builds skip the checksum), and deserializing damaged bytes can take the process down. Comparing
 * two copies is one native memcmp; a checksum in JavaScript costs some 3 ms for a 200 KB cache, and
 * loading node:zlib for its crc32 some 8 ms, more than the cache saves.
 */
import { FILE_PREFIX, untrusted } from './cache-place.js';
import { debug } from './say.js';

const fs = process.getBuiltinModule('node:fs');
const { dirname, join } = process.getBuiltinModule('node:path');

/** Cache files kept in a directory: each build of the agent, Node.js release and set of options writes one. */
export const KEPT_FILES = 32;

const TAG = 'sspiagc1';
const HEADER = TAG.length + 4;
/** A partial file older than this was left by a process that ended while writing it. */
const PARTIAL_LEFT_MS = 3_600_000;

/** The cache in `file`, or undefined (none, not the user's own, damaged: each said under SSPI_AGENT_DEBUG). */
export function readCacheFile(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    // Checked on the open file: what is read is what was checked.
    const stat = fs.fstatSync(fd);
    const why = stat.isFile() ? untrusted(stat, file) : `${file} is not a file`;
    if (why) {
      debug(`start code cache not read: ${why}`);
      return undefined;
    }
    const cache = unpack(fs.readFileSync(fd));
    if (!cache) debug(`start code cache damaged: ${file}`);
    return cache;
  } catch (err) {
    debug(`start code cache not read: ${String(err)}`);
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function unpack(bytes: Buffer): Buffer | undefined {
  if (bytes.length < HEADER || bytes.toString('latin1', 0, TAG.length) !== TAG) return undefined;
  const length = bytes.readUInt32LE(TAG.length);
  if (bytes.length !== HEADER + 2 * length) return undefined;
  const cache = bytes.subarray(HEADER, HEADER + length);
  return cache.equals(bytes.subarray(HEADER + length)) ? cache : undefined;
}

/** Writes the cache; other processes may read the file at any moment: it appears whole or not at all. */
export function writeCacheFile(file: string, cache: Buffer): void {
  const header = Buffer.alloc(HEADER);
  header.write(TAG, 0, 'latin1');
  header.writeUInt32LE(cache.length, TAG.length);
  const partial = `${file}.${process.pid}.${process.getBuiltinModule('node:worker_threads').threadId}.partial`;
  fs.writeFileSync(partial, Buffer.concat([header, cache, cache]), { mode: 0o600 });
  try {
    fs.renameSync(partial, file);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw err;
  }
  prune(dirname(file));
}

/** Keeps the KEPT_FILES newest caches of the directory, and removes what writers that ended midway left. */
function prune(dir: string): void {
  const ours = fs.readdirSync(dir).filter((name) => name.startsWith(FILE_PREFIX));
  const aged = (name: string) => ({ path: join(dir, name), at: fs.statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 });
  const caches = ours.filter((name) => name.endsWith('.v8cache')).map(aged).sort((a, b) => b.at - a.at);
  for (const old of caches.slice(KEPT_FILES)) fs.rmSync(old.path, { force: true });
  const now = Date.now();
  for (const left of ours.filter((name) => name.endsWith('.partial')).map(aged)) {
    if (now - left.at > PARTIAL_LEFT_MS) fs.rmSync(left.path, { force: true });
  }
}
