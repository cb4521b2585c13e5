// Scrapes under concurrent load: while an app under the agent runs NTLM handshakes in yielding batches,
// the test scrapes its /metrics endpoint (loopback) hundreds of times over several concurrent
// connections. Every scrape must answer 200 with a well-formed exposition whose books balance, every
// handshake must succeed, and at the end nothing is live and the agent counted no error of its own.
// Bounded by counts, never by time: nothing here is timed (the benchmark's section 8 measures the cost).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { METRICS } from '../../dist/metrics/catalog.js';
import { freePort } from '../../examples/lib/free-port.mjs';
import { metricValue, parseMetrics } from '../helpers/prom-text.mjs';
import { FIXTURES, jsonLines, REPO } from '../helpers/run-app.mjs';

const MIN_HANDSHAKES = 300;
const BATCH = 4;
const MAX_HANDSHAKES = 20_000;
const SCRAPES = 400;
const CONNECTIONS = 6;
const KINDS = ['credential', 'context'];

/** The fixture app, under the agent, with its endpoint on `port`; lines it printed, as they come. */
function startApp(port) {
  const child = spawn(
    process.execPath,
    ['--import', 'sspi-agent', `${FIXTURES}/robustness/scrape-load.mjs`, String(MIN_HANDSHAKES), String(BATCH), String(MAX_HANDSHAKES)],
    {
      cwd: REPO,
      env: { ...process.env, WLOG_LEVEL: 'OFF', SSPI_AGENT_METRICS_HOST: '127.0.0.1', SSPI_AGENT_METRICS_PORT: String(port) },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const app = { child, stdout: '', stderr: '', code: undefined, signal: undefined };
  const waiters = [];
  const check = () => {
    for (const w of [...waiters]) {
      const found = jsonLines(app.stdout).find(w.match);
      if (found || app.code !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        if (found) w.resolve(found);
        else w.reject(new Error(`the app ended (${app.code ?? app.signal}) before printing what the test waits for\n${explain(app)}`));
      }
    }
  };
  child.stdout.on('data', (d) => ((app.stdout += d), check()));
  child.stderr.on('data', (d) => (app.stderr += d));
  app.exited = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      app.code = code;
      app.signal = signal;
      check();
      resolve();
    }),
  );
  /** Resolves with the first JSON line `match` accepts. */
  app.line = (match) => new Promise((resolve, reject) => (waiters.push({ match, resolve, reject }), check()));
  return app;
}

function explain(app) {
  return `exit ${app.code} signal ${app.signal}\n--- stdout\n${app.stdout}\n--- stderr\n${app.stderr}`;
}

/** One GET over `agent`: status, content type and body. */
function get(agent, url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, contentType: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** A well-formed exposition: every metric of the contract declared, every line a comment or a sample. */
function checkExposition(scrape, where) {
  assert.equal(scrape.status, 200, `${where}: HTTP ${scrape.status}`);
  assert.match(scrape.contentType ?? '', /^text\/plain; version=0\.0\.4/, where);
  assert.ok(scrape.body.endsWith('\n'), `${where}: the exposition ends with a newline`);
  for (const name of Object.values(METRICS)) {
    assert.ok(scrape.body.includes(`\n# TYPE ${name} `), `${where}: no # TYPE line for ${name}`);
  }
  return parseMetrics(scrape.body); // throws on a line that is neither a comment nor a sample
}

/** The books of one scrape: opened − closed = live for each kind, and no agent error. */
function checkBooks(samples, where) {
  for (const kind of KINDS) {
    const opened = metricValue(samples, 'sspi_handles_opened_total', { kind });
    const closed = metricValue(samples, 'sspi_handles_closed_total', { kind });
    const live = metricValue(samples, 'sspi_handles_live', { kind });
    assert.equal(opened - closed, live, `${where}: ${kind}: opened ${opened} − closed ${closed} ≠ live ${live}`);
  }
  const errors = samples.filter((s) => s.name === 'sspi_agent_errors_total' && s.value !== 0);
  assert.deepEqual(errors, [], `${where}: the agent counted errors of its own`);
}

describe('robustness: /metrics scraped under concurrent load', function () {
  this.timeout(120_000);

  it(`${SCRAPES} scrapes over ${CONNECTIONS} connections while ${MIN_HANDSHAKES}+ handshakes run in yielding batches: every scrape 200, well-formed and balanced; every handshake right; nothing live at the end`, async function () {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    const app = startApp(port);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    try {
      const ready = await app.line((l) => 'ready' in l);
      assert.equal(ready.ready, port, `the endpoint did not start on ${port}\n${explain(app)}`);

      // CONNECTIONS scrapers, each scraping in sequence, until SCRAPES in all.
      let issued = 0;
      const sequences = await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          const seen = [];
          while (issued < SCRAPES) {
            issued++;
            seen.push(await get(agent, url));
          }
          return seen;
        }),
      );
      app.child.stdin.write('stop\n');
      const done = await app.line((l) => l.done === true);

      const scrapes = sequences.flat();
      assert.equal(scrapes.length, SCRAPES);
      const openedContexts = new Set();
      let sawLive = 0;
      sequences.forEach((seen, c) => {
        let previous = -1;
        seen.forEach((scrape, i) => {
          const where = `connection ${c}, scrape ${i}`;
          const samples = checkExposition(scrape, where);
          checkBooks(samples, where);
          // Counters never go back, scrape after scrape on one connection.
          const opened = metricValue(samples, 'sspi_handles_opened_total', { kind: 'context' });
          assert.ok(opened >= previous, `${where}: opened contexts went from ${previous} to ${opened}`);
          previous = opened;
          openedContexts.add(opened);
          if (metricValue(samples, 'sspi_handles_live', { kind: 'context' }) > 0) sawLive++;
        });
      });
      // The scrapes did land while the app worked: they saw its counts grow, and handles live.
      assert.ok(openedContexts.size >= 2, `every scrape saw the same count of opened contexts (${[...openedContexts]}): no scrape landed during the handshakes`);
      assert.ok(sawLive > 0, 'no scrape saw a live context: none landed between two batches');

      assert.ok(done.stopAsked, 'the app ran until the scrapes were done');
      assert.ok(done.handshakes >= MIN_HANDSHAKES, `${done.handshakes} handshakes`);
      assert.equal(done.succeeded, done.handshakes, 'every handshake succeeded');

      // The last scrape, with the app done and everything released.
      const last = await get(agent, url);
      const samples = checkExposition(last, 'the last scrape');
      checkBooks(samples, 'the last scrape');
      for (const kind of KINDS) assert.equal(metricValue(samples, 'sspi_handles_live', { kind }), 0, `${kind}s still live`);
      assert.equal(metricValue(samples, 'sspi_handles_opened_total', { kind: 'context' }), 2 * done.handshakes);
      assert.equal(metricValue(samples, 'sspi_handles_opened_total', { kind: 'credential' }), 2 * done.handshakes + 1);
      assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'CompleteAuthToken', status: 'SEC_E_OK' }), done.handshakes);
      assert.equal(metricValue(samples, 'sspi_invalid_releases_total'), 0);
      assert.equal(metricValue(samples, 'sspi_agent_errors_total'), 0);

      app.child.stdin.end();
      await app.exited;
      assert.equal(app.code, 0, explain(app));
      assert.doesNotMatch(app.stderr, /sspi-agent:/, 'the agent had nothing to warn about');
    } finally {
      agent.destroy();
      if (app.code === undefined) app.child.kill('SIGKILL');
    }
  });
});
