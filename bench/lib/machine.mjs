// What the numbers were measured on: they mean little without it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

function tryRun(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    return line?.split(':')[1]?.trim();
  } catch {
    return os.cpus()[0]?.model;
  }
}

export function machine(root) {
  const koffi = JSON.parse(readFileSync(new URL('../../node_modules/koffi/package.json', import.meta.url), 'utf8')).version;
  return {
    nproc: Number(tryRun('nproc', [])) || os.availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    koffi,
    winpr: tryRun('dpkg-query', ['-W', '-f=${Version}', 'libwinpr2-2']),
    gitCommit: tryRun('git', ['-C', root, 'rev-parse', '--short', 'HEAD']),
    gitDirty: (tryRun('git', ['-C', root, 'status', '--porcelain', '--', 'src']) ?? '') !== '',
  };
}

/** 1-minute load average: a shared machine's noise, worth recording before and after. */
export function load() {
  return Number(os.loadavg()[0].toFixed(2));
}
