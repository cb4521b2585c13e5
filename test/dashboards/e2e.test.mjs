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
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ALERTS_FILE, DASHBOARD_FILE, REPO, RULES_FILE, panelsOf, run, substitute } from './support.mjs';
import { freePort } from '../../examples/lib/free-port.mjs';

const LEAK_ALERT = 'SspiHandleLeakDetected';
const FOR_IN_TEST = '2s';
const MAX_AGE_CONTEXT = '3s';
const JOB = 'sspi-demo';
/** Grafana's $__rate_interval for a 1 s scrape interval: four scrapes. */
const RATE_INTERVAL = '4s';
const USER = { user: 'alice', domain: 'DEMO', password: 'Secret-Pa55' };

describe('dashboards end to end: Prometheus scraping the NTLM demo under the agent', function () {
  this.timeout(45_000);

  let started;
  const children = [];
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
    [leaky, fixed] = await Promise.all([startDemo({ fixLeak: false }), startDemo({ fixLeak: true })]);
    prometheus = await startPrometheus([leaky, fixed]);
    // Prometheus' discovery hands it its first targets about 5 s after start.
    await waitFor('both demo servers scraped', async () => (await query(`up{job="${JOB}"} == 1`)).length === 2, 10_000);
    scrapedAt = Date.now();
    // Logins start once scraping has: Prometheus sees the leak counters go up from 0.
    logins = loginLoop([leaky.url, fixed.url]);
  });

  after(async function () {
    await logins?.stop();
    await Promise.all(children.map((c) => c.stop()));
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

  async function startDemo({ fixLeak }) {
    const metricsPort = await freePort();
    const env = {
      ...process.env,
      WLOG_LEVEL: 'OFF',
      SSPI_AGENT_METRICS_HOST: '127.0.0.1',
      SSPI_AGENT_METRICS_PORT: String(metricsPort),
      SSPI_AGENT_MAX_AGE_CONTEXT: MAX_AGE_CONTEXT,
      SSPI_AGENT_REPORT: '0',
      DEMO_PORT: '0',
      DEMO_FIX_LEAK: fixLeak ? '1' : '',
    };
    const child = startChild(process.execPath, ['--import', 'sspi-agent', join('examples', 'ntlm-demo', 'server.mjs')], { env });
    const match = await child.waitForOutput(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/m, 10_000);
    return { url: match[1], instance: `127.0.0.1:${metricsPort}`, demo: fixLeak ? 'fixed' : 'leak' };
  }

  async function startPrometheus(demos) {
    const port = await freePort();
    const alertsFile = join(dir, 'sspi-agent-alerts.yml');
    const shipped = readFileSync(ALERTS_FILE, 'utf8');
    const rules = shipped.match(/^\s+- alert: /gm).length;
    let cut = 0;
    writeFileSync(alertsFile, shipped.replace(/^(\s+for:\s*)\S+[ \t]*$/gm, (_, key) => (cut++, key + FOR_IN_TEST)));
    assert.equal(cut, rules, 'every alert has a for: line');
    const config = join(dir, 'prometheus.yml');
    const scrapeConfigs = demos.map((d) => `      - targets: ['${d.instance}']\n        labels: { demo: ${d.demo} }`).join('\n');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${JSON.stringify(RULES_FILE)}`,
        `  - ${JSON.stringify(alertsFile)}`,
        'scrape_configs:',
        `  - job_name: ${JOB}`,
        '    static_configs:',
        scrapeConfigs,
        '',
      ].join('\n'),
    );
    await run('promtool', ['check', 'config', config]);
    const base = `http://127.0.0.1:${port}`;
    startChild('prometheus', [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ]);
    prometheusBase = base;
    await waitFor('Prometheus ready', async () => (await fetch(`${base}/-/ready`).catch(() => undefined))?.ok, 15_000);
    return { base };
  }

  /** Logs in to every URL in turn, every 4th time with a wrong password, until stopped. */
  function loginLoop(urls) {
    let stopped = false;
    let count = 0;
    let failure;
    const done = (async () => {
      process.env.WLOG_LEVEL = 'OFF'; // WinPR reads it when the client loads it
      const { login } = await import(join(REPO, 'examples', 'ntlm-demo', 'client.mjs'));
      for (let i = 1; !stopped; i++) {
        const password = i % 4 === 0 ? `${USER.password}-wrong` : USER.password;
        for (const url of urls) {
          const result = await login(url, { ...USER, password });
          if (result.ok === (i % 4 === 0)) throw new Error(`login ${i} to ${url}: ${JSON.stringify(result)}`);
          count++;
        }
        await sleep(40);
      }
    })().catch((err) => (failure = err));
    return {
      count: () => {
        if (failure) throw failure;
        return count;
      },
      async stop() {
        stopped = true;
        await done;
      },
    };
  }

  function startChild(command, args, { env = process.env } = {}) {
    const child = spawn(command, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (output += d));
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.once('error', (err) => (output += `\n${err.message}`));
    const handle = {
      output: () => output,
      async waitForOutput(pattern, ms) {
        return waitFor(`${command} printing ${pattern}`, async () => {
          if (child.exitCode !== null) throw new Error(`${command} exited ${child.exitCode}:\n${output}`);
          return pattern.exec(output) ?? undefined;
        }, ms);
      },
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
      },
    };
    children.push(handle);
    return handle;
  }
});

let prometheusBase;

async function api(path, params) {
  const response = await fetch(`${prometheusBase}${path}?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(5000) });
  const body = await response.json();
  if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
  return body.data.result ?? body.data;
}

function query(expr) {
  return api('/api/v1/query', { query: expr });
}

async function alerts(name, instance) {
  const { alerts: all } = await api('/api/v1/alerts', {});
  return all.filter((a) => a.labels.alertname === name && a.labels.instance === instance);
}

async function waitFor(what, probe, ms) {
  const deadline = Date.now() + ms;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
}

async function requireBinary(name) {
  try {
    await run(name, ['--version']);
  } catch {
    assert.fail(`${name} is not installed: run scripts/setup-prometheus.sh (Debian package prometheus)`);
  }
}


function escapeRegex(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
