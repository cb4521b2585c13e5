/**
 * Where the start code's cache lives: the directory (SSPI_AGENT_CODE_CACHE, or one of the user's own
 * by default), and the file in it for this build of the code, this Node.js and these options. A
 * cache is code the agent runs: code that others could write would run in the app, so the directory
 * must be the user's own and writable by no one else.
 */
import type { Stats } from 'node:fs';
import { codeCacheSetting } from './setting.js';
import { warn } from './say.js';

const fs = process.getBuiltinModule('node:fs');
const { isAbsolute, join } = process.getBuiltinModule('node:path');
const { tmpdir } = process.getBuiltinModule('node:os');

export const CODE_CACHE_VARIABLE = 'SSPI_AGENT_CODE_CACHE';

/** Every file the cache writes starts with this, and pruning touches no other. */
export const FILE_PREFIX = 'sspi-agent-';

export type CachePlace = { file: string; why?: undefined } | { file?: undefined; why: string };

/** The cache file for the script at `codePath` (`digest`: its build's), or why there is none. */
export function cachePlace(codePath: string, digest: string): CachePlace {
  const raw = process.env[CODE_CACHE_VARIABLE];
  const setting = raw === undefined ? true : codeCacheSetting(raw);
  if (setting === false) return { why: `${CODE_CACHE_VARIABLE}=${raw!.trim()}` };
  const dir = directory(typeof setting === 'string' ? setting : undefined);
  if (typeof dir !== 'string') return dir;
  try {
    return { file: join(dir, fileName(codePath, digest)) };
  } catch (err) {
    return { why: `${codePath}: ${String(err)}` };
  }
}

/** The directory: the one given, when it is safe (else a warning, and the default); the default otherwise. */
function directory(given: string | undefined): string | { why: string } {
  if (given !== undefined) {
    const unsafe = unsafeDirectory(given);
    if (!unsafe) return given;
    warn(`${CODE_CACHE_VARIABLE}=${given} is not used: ${unsafe}; the start code's cache stays in its default directory`);
  }
  const dir = defaultDirectory();
  if (dir === undefined) return { why: 'no directory of the user\'s own for it (LOCALAPPDATA is not set)' };
  const unsafe = unsafeDirectory(dir);
  return unsafe ? { why: unsafe } : dir;
}

/**
 * One per user. On Windows the user's local application data (a service or an app pool without a
 * profile may have C:\Windows\Temp as its temporary directory, where any user may make folders);
 * elsewhere beside Node's own compile cache, under the temporary directory, named by the user.
 */
function defaultDirectory(): string | undefined {
  if (process.platform === 'win32') {
    const local = process.env.LOCALAPPDATA;
    return local && isAbsolute(local) ? join(local, 'sspi-agent', 'code-cache') : undefined;
  }
  return join(tmpdir(), `sspi-agent-code-cache-${process.geteuid?.() ?? 'user'}`);
}

/** Why the directory must not hold the cache, or undefined when it may (it is made if missing). */
function unsafeDirectory(dir: string): string | undefined {
  let stat: Stats;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    stat = fs.lstatSync(dir);
  } catch (err) {
    return `${dir}: ${String(err)}`;
  }
  if (stat.isSymbolicLink()) return `${dir} is a symbolic link`;
  if (!stat.isDirectory()) return `${dir} is not a directory`;
  return untrusted(stat, dir);
}

/**
 * Why a directory or file of the cache is not to be trusted: on POSIX, another user's, or writable
 * by others. (Windows has no such bits: there the directory's place is what keeps others out.)
 */
export function untrusted(stat: Stats, path: string): string | undefined {
  const user = process.geteuid?.();
  if (user === undefined) return undefined;
  if (stat.uid !== user) return `${path} belongs to another user (uid ${stat.uid})`;
  if (stat.mode & 0o022) return `${path} can be written by others (mode ${(stat.mode & 0o777).toString(8)})`;
  return undefined;
}

/**
 * The file's name: the build's digest, the script's size and time (V8 itself checks only the length
 * of the source a cache was made from: an edited file must not meet an old cache), the Node.js
 * release and architecture, and the binary and options the process started with (V8 rejects a cache
 * made under other flags: processes started otherwise keep files of their own rather than overwrite
 * each other's at every start).
 */
function fileName(codePath: string, digest: string): string {
  const stat = fs.statSync(codePath);
  const started = [process.execPath, ...process.execArgv, process.env.NODE_OPTIONS ?? ''].join('\0');
  return `${FILE_PREFIX}${[digest, stat.size, Math.trunc(stat.mtimeMs), process.version, process.arch, fnv1a(started)].join('-')}.v8cache`;
}

/** A short digest of a short text (FNV-1a, 32 bits), in hex: node:crypto would cost the start more than the cache saves. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}
