/**
 * How a test plugin loads its hooks, guarded as the preload guards the agent: on a Node.js the agent
 * does not support, or if loading them fails, the tests run unchecked after one warning naming the
 * plugin, and the test run goes on.
 */
import { nodeSupported, SUPPORTED_NODE } from '../node-support.js';

/** What `load` returns, or undefined after the warning. */
export async function loadGuarded<T>(plugin: string, load: () => Promise<T>): Promise<T | undefined> {
  if (!nodeSupported(process.versions.node)) {
    process.stderr.write(`${plugin}: Node.js ${process.versions.node} is not supported (needs ${SUPPORTED_NODE}); the tests run unchecked\n`);
    return undefined;
  }
  try {
    return await load();
  } catch (err) {
    process.stderr.write(`${plugin}: failed to start; the tests run unchecked: ${err instanceof Error ? err.stack : String(err)}\n`);
    return undefined;
  }
}
