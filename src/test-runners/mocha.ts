/**
 * `sspi-agent/mocha`, a root hook plugin: `require: sspi-agent/mocha` in .mocharc, or
 * `mocha --require sspi-agent/mocha`. Guarded as the preload is: on a Node.js the agent does not
 * support, or if anything goes wrong, the tests run unchecked after one warning.
 */
import { nodeSupported, SUPPORTED_NODE } from '../node-support.js';

async function hooks(): Promise<object> {
  if (!nodeSupported(process.versions.node)) {
    process.stderr.write(`sspi-agent/mocha: Node.js ${process.versions.node} is not supported (needs ${SUPPORTED_NODE}); the tests run unchecked\n`);
    return {};
  }
  try {
    const { rootHooks } = await import('./mocha-hooks.js');
    return rootHooks();
  } catch (err) {
    process.stderr.write(`sspi-agent/mocha: failed to start; the tests run unchecked: ${err instanceof Error ? err.stack : String(err)}\n`);
    return {};
  }
}

/** Mocha asks for the hooks (a function it awaits) once the plugin is loaded: no top-level await, so `require()` loads it too. */
export const mochaHooks = hooks;
