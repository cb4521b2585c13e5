/**
 * The preload entry: `node --import sspi-agent app.js`. Tiny and guarded: whatever goes wrong
 * becomes one warning, and the app always runs. SSPI_AGENT_ENABLED=0 is read here, before anything
 * else is loaded, so that an agent turned off costs the app this one module and nothing more.
 */

/**
 * The values config-parsers.ts's `bool` reads as false, repeated here because importing it would be
 * a module more to load when off. Any other value starts the agent, whose settings table then warns
 * about a value it does not accept.
 */
const OFF = ['0', 'false', 'no', 'off'];

function turnedOff(raw: string | undefined): boolean {
  return raw !== undefined && OFF.includes(raw.trim().toLowerCase());
}

async function preload(): Promise<void> {
  const { nodeSupported, SUPPORTED_NODE } = await import('./node-support.js');
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
