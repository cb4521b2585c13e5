// The scraper of the scrape-load workload: a process of its own (not the app's event loop), started
// with `fork` by the workload, that scrapes http://127.0.0.1:PORT/metrics continuously over a few
// concurrent keep-alive connections while it is told to, and reports what it saw.
//
//   argv: <url> <connections> <max seconds> <max scrapes>
//   parent → child: { type: 'start' }   start scraping (acks { type: 'started' } once a first scrape came back)
//                   { type: 'stop' }    stop, wait for the scrapes in flight, reply
//                                       { type: 'stopped', ok, failed, errors, latenciesMs }
//
// Bounded: loopback only (the URL must be http://127.0.0.1), at most <max scrapes> scrapes in all,
// and the process ends by itself after <max seconds> or as soon as its parent goes away.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const [url, connectionsArg, maxSecondsArg, maxScrapesArg] = process.argv.slice(2);
const connections = Number(connectionsArg);
const maxScrapes = Number(maxScrapesArg);
if (!url?.startsWith('http://127.0.0.1:')) throw new Error(`scraper: loopback URLs only, not ${url}`);
if (!(connections >= 1 && maxScrapes >= 1)) throw new Error('scraper: usage: <url> <connections> <max seconds> <max scrapes>');

setTimeout(() => process.exit(0), Number(maxSecondsArg) * 1000).unref();
process.on('disconnect', () => process.exit(0));

let total = 0;
let running = false;
let loops = [];
let agent;
let block;

/** One GET /metrics: its status, whether the body is an exposition, and how long it took. */
function scrapeOnce() {
  return new Promise((resolve) => {
    const start = performance.now();
    const req = http.get(url, { agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const wellFormed = body.startsWith('# HELP sspi_') && body.endsWith('\n');
        resolve({ ok: res.statusCode === 200 && wellFormed, why: `HTTP ${res.statusCode}${wellFormed ? '' : ', not an exposition'}`, ms: performance.now() - start });
      });
      res.on('error', (err) => resolve({ ok: false, why: err.code ?? err.message }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ ok: false, why: err.code ?? err.message }));
  });
}

async function loop(first) {
  while (running && total < maxScrapes) {
    total++;
    const r = await scrapeOnce();
    if (r.ok) {
      block.ok++;
      block.latenciesMs.push(r.ms);
    } else {
      block.failed++;
      block.errors[r.why] = (block.errors[r.why] ?? 0) + 1;
    }
    first();
  }
}

process.on('message', async (msg) => {
  if (msg.type === 'start' && !running) {
    block = { ok: 0, failed: 0, errors: {}, latenciesMs: [] };
    agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    running = true;
    let acked = false;
    const first = () => {
      if (acked) return;
      acked = true;
      process.send({ type: 'started' });
    };
    loops = Array.from({ length: connections }, () => loop(first));
    // The count bound reached: nothing will come back, but the parent waits for the ack.
    if (total >= maxScrapes) first();
  } else if (msg.type === 'stop') {
    running = false;
    await Promise.all(loops);
    // No keep-alive connection left between two load phases: the idle phase is idle.
    agent?.destroy();
    process.send({ type: 'stopped', ...(block ?? { ok: 0, failed: 0, errors: {}, latenciesMs: [] }) });
  }
});
process.send({ type: 'ready' });
