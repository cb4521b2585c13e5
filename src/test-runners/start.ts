/**
 * How a test plugin finds its agent: the one `--import sspi-agent` started, or one it starts itself
 * as it loads (before the test files, so their koffi and node-expose-sspi are instrumented). What it
 * cannot reach then: libraries koffi loaded before it, and an ES module import of koffi made before
 * it (neither is seen by a hook installed later); each earlier CommonJS load it finds is instrumented
 * from now on and named in a warning. Worker threads the tests start get the agent's preload.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import workerThreads from 'node:worker_threads';
import { runningAgent, type Agent } from '../agent.js';
import { start } from '../api.js';
import { agentError, warn } from '../diagnostics.js';

/** The package's preload, which a worker thread needs in its `execArgv` to get an agent of its own. */
const PRELOAD = new URL('../index.js', import.meta.url).href;
const EARLY_LOADS = /[\\/]node_modules[\\/](koffi|node-expose-sspi)[\\/][^\\/]*\.c?js$/;

/** The running agent, or one started for a test process (no `/metrics` endpoint unless SSPI_AGENT_METRICS_PORT asks). */
export function agentForTests(plugin: string): Agent | undefined {
  const running = runningAgent();
  if (running) return running;
  const early = earlyLoads();
  const overrides = process.env.SSPI_AGENT_METRICS_PORT ? {} : { metricsPort: 0 };
  const agent = start(overrides);
  if (!agent) return undefined;
  for (const [path, exports] of early) {
    const name = EARLY_LOADS.exec(path)![1]!;
    if (name === 'koffi') agent.koffi.patchModule(exports);
    else agent.nodeExposeSspi.patchModule(exports);
    warn(`${name} was loaded before ${plugin} (${path}): what it loaded or created before is not tracked; load ${plugin} first`);
  }
  // Workers inherit a preload given on the command line (`--import sspi-agent/node-test`); else they get one.
  if (!process.execArgv.some((arg) => arg.includes('sspi-agent'))) preloadWorkers();
  return agent;
}

/** koffi and node-expose-sspi modules already in the CommonJS cache. */
function earlyLoads(): Array<[string, unknown]> {
  const cache = createRequire(import.meta.url).cache;
  return Object.entries(cache)
    .filter(([path]) => EARLY_LOADS.test(path))
    .map(([path, mod]) => [path, mod?.exports]);
}

/**
 * Adds the preload to the `execArgv` of each worker thread the tests start, as `--import sspi-agent`
 * on the command line would. An `execArgv` a worker cannot take (a process-wide flag of the parent's,
 * now passed explicitly) falls back to the worker as asked, without an agent.
 */
function preloadWorkers(): void {
  const Original = workerThreads.Worker;
  function Worker(this: unknown, filename: string | URL, options: workerThreads.WorkerOptions = {}) {
    const execArgv = [...(options.execArgv ?? process.execArgv), '--import', PRELOAD];
    try {
      return Reflect.construct(Original, [filename, { ...options, execArgv }], new.target ?? Worker);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
      warn(`a worker thread runs without the agent: its execArgv does not take the preload (${(err as Error).message})`);
      return Reflect.construct(Original, [filename, options], new.target ?? Worker);
    }
  }
  try {
    Worker.prototype = Original.prototype;
    Object.setPrototypeOf(Worker, Original);
    (workerThreads as { Worker: unknown }).Worker = Worker;
    syncBuiltinESMExports();
  } catch (err) {
    agentError('test-plugin.workers', err);
  }
}
