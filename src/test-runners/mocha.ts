/**
 * `sspi-agent/mocha`, a root hook plugin: `require: sspi-agent/mocha` in .mocharc, or
 * `mocha --require sspi-agent/mocha`. Guarded as the preload is (guarded-load.ts): on a Node.js the
 * agent does not support, or if anything goes wrong, the tests run unchecked after one warning.
 */
import { loadGuarded } from './guarded-load.js';

async function hooks(): Promise<object> {
  const rootHooks = await loadGuarded('sspi-agent/mocha', async () => (await import('./mocha-hooks.js')).rootHooks());
  return rootHooks ?? {};
}

/** Mocha asks for the hooks (a function it awaits) once the plugin is loaded: no top-level await, so `require()` loads it too. */
export const mochaHooks = hooks;
