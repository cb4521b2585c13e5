// test/fixtures/otel-2x-app: an app on OpenTelemetry JS 2.x with the agent installed beside it, as npm
// lays it out (scripts/setup.sh runs its `npm ci`). Its copy of the agent gets the current build.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, REPO } from './run-app.mjs';

export const APP_2X = join(FIXTURES, 'otel-2x-app');
export const INSTALLED_AGENT = join(APP_2X, 'node_modules', 'sspi-agent');

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/**
 * Puts the current build into the app's installed copy of the agent. That copy (its package.json and
 * dependency tree) comes from the fixture's `npm ci`; this fails, rather than test an agent whose
 * dependencies are not the repository's, when that install is missing or out of date.
 */
export function installCurrentBuild() {
  const setup = 'run ./scripts/setup.sh (it installs test/fixtures/otel-2x-app)';
  assert.ok(existsSync(join(INSTALLED_AGENT, 'package.json')), `the 2.x app is not installed: ${setup}`);
  const installed = readJson(join(INSTALLED_AGENT, 'package.json'));
  const current = readJson(join(REPO, 'package.json'));
  for (const field of ['dependencies', 'peerDependencies']) {
    assert.deepEqual(
      installed[field],
      current[field],
      `the 2.x app's install predates package.json's ${field}: update its lock (npm install in test/fixtures/otel-2x-app), then ${setup}`,
    );
  }
  rmSync(join(INSTALLED_AGENT, 'dist'), { recursive: true, force: true });
  cpSync(join(REPO, 'dist'), join(INSTALLED_AGENT, 'dist'), { recursive: true });
  cpSync(join(REPO, 'package.json'), join(INSTALLED_AGENT, 'package.json'));
}
