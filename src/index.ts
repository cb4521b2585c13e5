/**
 * The preload entry: `node --import sspi-agent app.js`. Tiny and guarded: whatever goes wrong
 * becomes one warning, and the app always runs.
 */
import { isMainThread } from 'node:worker_threads';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);

// `--import` runs again in every worker thread; one agent per process, on the main thread.
if (!isMainThread) {
  // nothing to do
} else if (major < 20 || (major === 20 && minor < 6)) {
  process.stderr.write(`sspi-agent: Node.js ${process.versions.node} is not supported (needs 20.6 or newer); the app runs without the agent\n`);
} else {
  try {
    const { startAgent } = await import('./agent.js');
    startAgent();
  } catch (err) {
    process.stderr.write(`sspi-agent: failed to start; the app runs without the agent: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
}

export {};
