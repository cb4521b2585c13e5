/**
 * The preload entry: `node --import sspi-agent app.js`. Tiny and guarded: whatever goes wrong
 * becomes one warning, and the app always runs.
 */
import { isMainThread } from 'node:worker_threads';
import { nodeSupported, SUPPORTED_NODE } from './node-support.js';

// `--import` runs again in every worker thread: each thread gets an agent of its own (SSPI calls are
// the thread's own), and the main thread's serves and reports for the process.
if (!nodeSupported(process.versions.node)) {
  if (isMainThread) process.stderr.write(`sspi-agent: Node.js ${process.versions.node} is not supported (needs ${SUPPORTED_NODE}); the app runs without the agent\n`);
} else {
  try {
    const { startAgent } = await import('./agent.js');
    // From Node 24 on the app's first line runs as soon as this module settles: the endpoint is
    // bound (or has warned) by then, so a scrape or a health check right at start finds it.
    await startAgent()?.ready;
  } catch (err) {
    process.stderr.write(`sspi-agent: failed to start; the app runs without the agent: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
}

export {};
