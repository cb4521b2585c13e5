// End to end: a real Prometheus server (Debian's package) scrapes two NTLM demo servers run under
// `node --import sspi-agent`, one with the rejected-login leak and one with it fixed, while this
// process logs in to both in a loop. Through Prometheus' HTTP API: the leak alert fires for the
// leaking server and never even goes pending for the fixed one, and every dashboard query returns data.
//
// The alerts are the shipped ones with every `for:` cut to FOR_IN_TEST (their expressions are
// untouched; promtool's unit tests cover the shipped `for:` values). SSPI_AGENT_MAX_AGE_CONTEXT=3s
// makes a rejected login's undeleted context stale after 3 s, so the agent counts it in
// sspi_handles_leaked_total{reason="age"}: the leak signal the alert reads (the agent may count it
// first as reason="collected", once the server's dropped context object is garbage-collected).
//
// DASHBOARDS_E2E_SERIES=<file> also writes the live-context series of the run there (for
// scripts/plot-live-handles.mjs).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DASHBOARD_FILE, panelsOf, substitute } from './support.mjs';
import { childProcesses, waitFor } from './children.mjs';
import { escapeRegex, requireBinary, startPrometheus } from './prometheus-server.mjs';
import { loginLoop, startDemo } from './demo-servers.mjs';
import { freePort } from '../../examples/lib/free-port.mjs';

const LEAK_ALERT = 'SspiHandleLeakDetected';
const FOR_IN_TEST = '2s';
const MAX_AGE_CONTEXT = '3s';
const JOB = 'sspi-demo';
/** Grafana's $__rate_interval for a 1 s scrape interval: four scrapes. */
const RATE_INTERVAL = '4s';

describe('dashboards end to end: Prometheus scraping the NTLM demo under the agent', function () {
  this.timeout(45_000);

  let started;
  const children = childProcesses();
  let dir;
  let prometheus;
  let leaky;
  let fixed;
  let logins;
  let firingAt;
  let scrapedAt;

  before(async function () {
    this.timeout(30_000);
    await requireBinary('prometheus');
    started = Date.now();
    dir = mkdtempSync(join(tmpdir(), 'sspi-dashboards-e2e-'));
    [leaky, fixed] = await Promise.all([demo({ fixLeak: false }), demo({ fixLeak: true })]);
    prometheus = await startPrometheus(children, {
      dir,
      jobs: [{ name: JOB, targets: [leaky, fixed].map((d) => ({ instance: d.instance, labels: { demo: d.demo } })) }],
      forInTest: FOR_IN_TEST,
    });
    ({ query, alerts, api } = prometheusApi(prometheus));
    // Prometheus' discovery hands it its first targets about 5 s after start.
    await waitFor('both demo servers scraped', async () => (await query(`up{job="${JOB}"} == 1`)).length === 2, 10_000);
    scrapedAt = Date.now();
    // Logins start once scraping has: Prometheus sees the leak counters go up from 0.
    logins = loginLoop(() => [leaky.url, fixed.url], { pauseMs: 40 });
  });

  after(async function () {
    await logins?.stop();
    await children.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fires the leak alert for the server that leaks rejected logins’ contexts', async function () {
    const alert = await waitFor(
      `${LEAK_ALERT} firing for ${leaky.instance}`,
      async () => (await alerts(LEAK_ALERT, leaky.instance)).find((a) => a.state === 'firing'),
      25_000,
    );
    firingAt = Date.now();
    // It was pending for its whole `for:` first.
    assert.ok(firingAt - Date.parse(alert.activeAt) >= 2000, `active since ${alert.activeAt}`);
    // Whichever detector saw it first: age (older than 3 s) or collected (the server dropped the
    // context's JS object and the garbage collector took it).
    assert.ok(['age', 'collected'].includes(alert.labels.reason), alert.labels.reason);
    assert.equal(alert.labels.kind, 'context');
    assert.equal(alert.labels.package, 'NTLM');
    assert.equal(alert.labels.severity, 'warning');
    const description = `found leaked \\(${alert.labels.reason}\\) in the last 15 minutes on ${escape(leaky.instance)} \\(job ${JOB}\\)`;
    assert.match(alert.annotations.description, new RegExp(description));
    // The age detector, the one SSPI_AGENT_MAX_AGE_CONTEXT drives, counts them too.
    await waitFor(
      'leaked contexts with reason="age" in Prometheus',
      async () => Number((await query(`sum(sspi_handles_leaked_total{instance="${leaky.instance}", reason="age"})`))[0]?.value[1]) > 0,
      5000,
    );
    assert.ok(logins.count() > 20, `only ${logins.count()} logins`);
  });

  it('keeps every alert inactive for the fixed server, whose live contexts stay near 0', async function () {
    assert.ok(firingAt, 'runs after the leak alert fired');
    // The fixed server had the same logins for as long; give it a few more evaluations.
    await sleep(3000);
    const window = `${Math.ceil((Date.now() - started) / 1000) + 5}s`;
    const everFixed = await query(`count_over_time(ALERTS{instance="${fixed.instance}"}[${window}])`);
    assert.deepEqual(everFixed.map((s) => s.metric.alertname), [], 'alerts pending or firing for the fixed server');
    const [leakedFixed] = await query(`sum(sspi_handles_leaked_total{instance="${fixed.instance}", reason=~"age|abandoned"})`);
    assert.equal(Number(leakedFixed.value[1]), 0);
    const [maxFixed] = await query(`max_over_time(sum(sspi_handles_live{instance="${fixed.instance}", kind="context"})[${window}:1s])`);
    assert.ok(Number(maxFixed.value[1]) <= 2, `fixed server: up to ${maxFixed.value[1]} live contexts`);
    const [leakyLive] = await query(`sum(sspi_handles_live{instance="${leaky.instance}", kind="context"})`);
    assert.ok(Number(leakyLive.value[1]) >= 5, `leaking server: only ${leakyLive.value[1]} live contexts`);
  });

  it('answers every dashboard query with data, for the job and instance variables as Grafana fills them', async function () {
    const jobs = await api('/api/v1/label/job/values', { 'match[]': 'sspi_handles_live' });
    assert.ok(jobs.includes(JOB), `job variable: ${jobs}`);
    const instances = await api('/api/v1/label/instance/values', { 'match[]': `sspi_handles_live{job=~"${JOB}"}` });
    assert.ok(instances.includes(leaky.instance) && instances.includes(fixed.instance), `instance variable: ${instances}`);

    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8'));
    const end = Date.now() / 1000;
    const vars = { $job: JOB, $instance: escapeRegex(leaky.instance), $__rate_interval: RATE_INTERVAL, $__range: '30s', $__interval: '1s' };
    const empty = [];
    let checked = 0;
    for (const panel of panelsOf(dashboard)) {
      for (const target of panel.targets) {
        const expr = substitute(target.expr, vars);
        const result = await api('/api/v1/query_range', { query: expr, start: String(end - 15), end: String(end), step: '1' });
        const finite = result.some((s) => s.values.some(([, v]) => Number.isFinite(Number(v))));
        if (!finite) empty.push(`${panel.title} ${target.refId}: ${expr}`);
        checked++;
      }
    }
    assert.deepEqual(empty, [], 'panel queries without data');
    assert.ok(checked >= 20);
  });

  it('records the live-context series of both servers (for the plot in docs/dashboards.md)', async function () {
    // For the plot, a longer run than the checks need: 25 s of scrapes.
    if (process.env.DASHBOARDS_E2E_SERIES) await sleep(Math.max(0, scrapedAt + 25_000 - Date.now()));
    const end = Date.now() / 1000;
    const start = (started - 2000) / 1000;
    const result = await api('/api/v1/query_range', {
      query: `sum by (demo) (sspi_handles_live{job="${JOB}", kind="context"})`,
      start: String(start),
      end: String(end),
      step: '1',
    });
    assert.deepEqual(result.map((s) => s.metric.demo).sort(), ['fixed', 'leak']);
    if (process.env.DASHBOARDS_E2E_SERIES) {
      const series = result.map((s) => ({ demo: s.metric.demo, values: s.values.map(([t, v]) => [t - start, Number(v)]) }));
      writeFileSync(
        process.env.DASHBOARDS_E2E_SERIES,
        JSON.stringify({ maxAgeContext: MAX_AGE_CONTEXT, forInTest: FOR_IN_TEST, loginsAfter: (scrapedAt - started + 2000) / 1000, firingAfter: (firingAt - started + 2000) / 1000, series }),
      );
    }
    this.test.title += ` — alert firing ${((firingAt - scrapedAt) / 1000).toFixed(1)} s after logins began, ${logins.count()} logins`;
  });

  // --- helpers -------------------------------------------------------------------------------

  async function demo({ fixLeak }) {
    const server = await startDemo(children, { fixLeak, metricsPort: await freePort(), maxAgeContext: MAX_AGE_CONTEXT });
    return { ...server, demo: fixLeak ? 'fixed' : 'leak' };
  }
});

let query;
let alerts;
let api;

/** The client's calls as this file uses them; alerts(name, instance) filters. */
function prometheusApi(client) {
  return {
    query: (expr) => client.query(expr),
    api: client.api,
    alerts: async (name, instance) => (await client.alerts()).filter((a) => a.labels.alertname === name && a.labels.instance === instance),
  };
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
