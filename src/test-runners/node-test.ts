/**
 * `sspi-agent/node-test`, for Node's test runner: `node --test --import sspi-agent/node-test`.
 * Guarded as the preload is: on a Node.js the agent does not support, or if anything goes wrong, the
 * tests run unchecked after one warning.
 */
import { nodeSupported, SUPPORTED_NODE } from '../node-support.js';

if (!nodeSupported(process.versions.node)) {
  process.stderr.write(`sspi-agent/node-test: Node.js ${process.versions.node} is not supported (needs ${SUPPORTED_NODE}); the tests run unchecked\n`);
} else {
  try {
    const { install } = await import('./node-test-hooks.js');
    install();
  } catch (err) {
    process.stderr.write(`sspi-agent/node-test: failed to start; the tests run unchecked: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
}

export {};
