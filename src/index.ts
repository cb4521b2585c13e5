/**
 * The preload entry: `node --import sspi-agent app.js`. Tiny and guarded: whatever goes wrong
 * becomes one warning, and the app always runs. SSPI_AGENT_ENABLED=0 is read here, before anything
 * else is loaded, so that an agent turned off costs the app this one module and nothing more (the
 * bundle inlines the two small modules it imports: scripts/bundle.mjs).
 */
import { nodeSupported, SUPPORTED_NODE } from './node-support.js';
import { switchValue } from './switches.js';

/**
 * Only an off word turns the agent off: any other value starts it, and its settings table then warns
 * about a value it does not accept.
 */
function turnedOff(raw: string | undefined): boolean {
  return switchValue(raw) === false;
}

async function preload(): Promise<void> {
  // `--import` runs again in every worker thread: each thread gets an agent of its own (SSPI calls are
  // the thread's own), and the main thread's serves and reports for the process.
  if (!nodeSupported(process.versions.node)) {
    const { isMainThread } = await import('node:worker_threads');
    if (isMainThread) process.stderr.write(`sspi-agent: Node.js ${process.versions.node} is not supported (needs ${SUPPORTED_NODE}); the app runs without the agent\n`);
    return;
  }
  const { startAgent } = await import('./agent.js');
  // From Node 24 on the app's first line runs as soon as this module settles: the endpoint is
  // bound (or has warned) by then, so a scrape or a health check right at start finds it.
  await startAgent()?.ready;
}

if (!turnedOff(process.env.SSPI_AGENT_ENABLED)) {
  try {
    await preload();
  } catch (err) {
    process.stderr.write(`sspi-agent: failed to start; the app runs without the agent: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
}

export {};
