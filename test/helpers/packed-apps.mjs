// The package as users get it: `npm pack`, the tarball unpacked, and installed (lockfile-free, from
// the npm cache where it can) into scratch apps under the OS temp dir, out of reach of this
// repository's node_modules. `npm test` runs the suite once per Node.js line on the same
// build, so the installs are kept in a directory named by the hash of the tarball and of the apps'
// dependencies: the first line installs, the others reuse. Directories unused for an hour are removed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, REPO } from './run-app.mjs';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const CACHE_PREFIX = 'sspi-agent-packed-';
const UNUSED_FOR = 60 * 60 * 1000;

const repoVersion = (name) => readJson(join(REPO, 'node_modules', name, 'package.json')).version;
const app2x = readJson(join(FIXTURES, 'otel-2x-app', 'package.json')).dependencies;

/**
 * The apps' dependencies beside the tarball, exact versions: one install each, shared by the runs.
 * None but the OpenTelemetry ones names an OpenTelemetry package (the agent's own dependencies still
 * bring @opentelemetry/api: prom-client depends on it).
 */
export const INSTALLS = {
  koffi3: { koffi: repoVersion('koffi'), '@types/node': repoVersion('@types/node') },
  koffi2: { koffi: '2.16.3' },
  otel2x: { koffi: repoVersion('koffi'), '@opentelemetry/api': app2x['@opentelemetry/api'], '@opentelemetry/sdk-node': app2x['@opentelemetry/sdk-node'] },
  otel3x: {
    koffi: repoVersion('koffi'),
    '@opentelemetry/api': repoVersion('@opentelemetry/api'),
    '@opentelemetry/sdk-node': repoVersion('@opentelemetry/sdk-node'),
    '@opentelemetry/sdk-trace': repoVersion('@opentelemetry/sdk-trace'),
  },
};

// npm 11 waits on standard input during an install unless it is closed.
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * Packs the package as it is built now (dist/ must be current: `npm test` builds first, so packing
 * skips the prepack build) and returns the cache directory for that tarball, with the tarball and
 * its unpacked contents (`package/`).
 */
export function packCurrentBuild() {
  packed ??= pack();
  return packed;
}

let packed;

function pack() {
  const scratch = mkdtempSync(join(tmpdir(), 'sspi-agent-pack-'));
  try {
    const [{ filename }] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], REPO));
    const tarball = join(scratch, filename);
    const key = createHash('sha256').update(readFileSync(tarball)).update(JSON.stringify(INSTALLS)).digest('hex').slice(0, 16);
    const dir = join(tmpdir(), `${CACHE_PREFIX}${key}`);
    pruneUnused(dir);
    if (!existsSync(join(dir, 'package', 'package.json'))) {
      execFileSync('tar', ['-xzf', tarball, '-C', scratch]); // into scratch/package
      mkdirSync(join(dir, 'apps'), { recursive: true });
      publish(tarball, join(dir, filename));
      publish(join(scratch, 'package'), join(dir, 'package'));
    }
    utimesSync(dir, new Date(), new Date());
    return { dir, tarball: join(dir, filename), unpacked: join(dir, 'package') };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The scratch app `name` of INSTALLS with the tarball installed, from the cache or installed now.
 * Its own package.json, no lockfile, its dependencies from the npm cache where it has them.
 */
export function installedApp({ dir, tarball }, name) {
  const app = join(dir, 'apps', name);
  if (existsSync(join(app, 'node_modules', 'sspi-agent', 'package.json'))) return app;
  const building = mkdtempSync(join(dir, 'apps', `.${name}-`));
  try {
    const dependencies = { ...INSTALLS[name], 'sspi-agent': `file:${tarball}` };
    writeFileSync(join(building, 'package.json'), JSON.stringify({ name: `packed-${name}`, version: '1.0.0', private: true, dependencies }, null, 2));
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', '--loglevel=error'], building);
    publish(building, app);
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return app;
}

/** Copies the packed-app fixtures (test/fixtures/packed) into a fresh directory inside the app. */
export function withAppFiles(app) {
  const dir = mkdtempSync(join(app, 'run-'));
  cpSync(join(FIXTURES, 'packed'), dir, { recursive: true });
  return dir;
}

/** Moves a finished directory into place; another process that got there first wins. */
function publish(from, to) {
  try {
    renameSync(from, to);
  } catch (err) {
    if (!['ENOTEMPTY', 'EEXIST'].includes(err.code)) throw err;
  }
  assert.ok(existsSync(to), `${to} was not created`);
}

function pruneUnused(keep) {
  for (const name of readdirSync(tmpdir())) {
    const dir = join(tmpdir(), name);
    if (!name.startsWith(CACHE_PREFIX) || dir === keep) continue;
    try {
      if (Date.now() - statSync(dir).mtimeMs > UNUSED_FOR) rmSync(dir, { recursive: true, force: true });
    } catch {
      // removed by another run meanwhile
    }
  }
}
