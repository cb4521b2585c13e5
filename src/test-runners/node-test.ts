/**
 * `sspi-agent/node-test`, for Node's test runner: `node --test --import sspi-agent/node-test`.
 * Guarded as the preload is (guarded-load.ts): on a Node.js the agent does not support, or if anything
 * goes wrong, the tests run unchecked after one warning.
 */
import { loadGuarded } from './guarded-load.js';

await loadGuarded('sspi-agent/node-test', async () => (await import('./node-test-hooks.js')).install());

export {};
