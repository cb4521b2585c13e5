// Child process, run with and without `--import sspi-agent`: what SSPI in worker threads costs the
// main thread. `workers` threads either run NTLM handshakes on real WinPR (`task: 'handshakes'`) or
// hold a few credentials and idle (`task: 'idle'`) for `ms` milliseconds, while the main thread does
// nothing of its own; the main thread's event-loop utilization over that window is its cost. With
// `scrape`, a separate process (bench/lib/scraper.mjs) scrapes the agent's endpoint all the while, and
// the main thread gathers every worker's metrics for each scrape.
// argv[2]: JSON { workers, ms, task, scrape, connections }; argv[3]: output file.
import koffi from 'koffi';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadSspi } from '../../examples/lib/sspi-binding.mjs';
import { writeSamFile } from '../../examples/lib/nt-hash.mjs';
import { startScraper } from '../lib/scraper-control.mjs';
import { summarize } from '../lib/stats.mjs';
import { USER, WINPR } from '../lib/sspi.mjs';

/** Handshakes in small batches, a turn of the loop between two (as a worker between tasks). */
async function handshakesUntil(sspi, deadline) {
  let count = 0;
  while (Date.now() < deadline) {
    for (let i = 0; i < 5; i++) {
      const r = sspi.handshake({ ...USER, samFile: workerData.samFile });
      if (r.clientStatus !== 0 || r.serverStatus !== 0) throw new Error(`handshake failed: ${r.clientStatus}/${r.serverStatus}`);
      count++;
    }
    await turn();
  }
  return count;
}

/** Holds ten credentials (ten live handles for each scrape to count) until the deadline. */
async function idleUntil(sspi, deadline) {
  const held = Array.from({ length: 10 }, () => sspi.acquireClientCredentials(USER));
  await sleep(Math.max(0, deadline - Date.now()));
  for (const credential of held) sspi.freeCredentials(credential);
  return 0;
}

async function workerThread() {
  const sspi = loadSspi(koffi, WINPR);
  // Ready (modules loaded, agent started), then the task from the common start to the deadline.
  parentPort.postMessage('ready');
  const [deadline] = await once(parentPort, 'message');
  const task = workerData.task === 'idle' ? idleUntil : handshakesUntil;
  parentPort.postMessage(await task(sspi, deadline));
}

async function mainThread() {
  const input = JSON.parse(process.argv[2]);
  const outFile = process.argv[3];
  // The main thread keeps WinPR loaded: a worker's koffi unloading the last copy crashes WinPR.
  loadSspi(koffi, WINPR);
  const samFile = writeSamFile(join(tmpdir(), `sspi-bench-workers-${process.pid}.sam`), [USER]);
  const url = `http://127.0.0.1:${process.env.SSPI_AGENT_METRICS_PORT}/metrics`;
  const scraper = input.scrape ? await startScraper(url, { connections: input.connections, maxSeconds: 120, maxScrapes: 1e6 }) : undefined;
  const workers = Array.from({ length: input.workers }, () => new Worker(new URL(import.meta.url), { workerData: { samFile, task: input.task } }));
  const exited = workers.map((w) => once(w, 'exit'));
  await Promise.all(workers.map((w) => once(w, 'message')));
  const done = workers.map((w) => once(w, 'message').then(([count]) => count));
  if (scraper) await scraper.start();
  const start = performance.now();
  const elu = performance.eventLoopUtilization();
  // Date.now(): each thread's performance.now() counts from its own start.
  const deadline = Date.now() + input.ms;
  for (const w of workers) w.postMessage(deadline);
  await Promise.all([...done, sleep(input.ms)]);
  const window = performance.eventLoopUtilization(elu);
  const seconds = (performance.now() - start) / 1000;
  const scrapes = scraper ? await scraper.stop() : undefined;
  await scraper?.end();
  const counts = await Promise.all(done);
  await Promise.all(exited);
  rmSync(samFile, { force: true });
  const result = {
    seconds,
    handshakes: counts.reduce((a, b) => a + b, 0),
    mainBusyMs: window.active,
    scrapes: scrapes && { ok: scrapes.ok, failed: scrapes.failed, latencyMs: summarize(scrapes.latenciesMs) },
  };
  writeFileSync(outFile, JSON.stringify(result));
}

await (isMainThread ? mainThread() : workerThread());
