// A fleet on one machine: 8 NTLM demo servers, each under `node --import sspi-agent` with its own
// endpoint, and one real Prometheus (Debian's package) scraping them all as one job, with the shipped
// recording rules and alerts, while this process logs in to every server alike (every 4th login
// with a wrong password). One server has the demo's rejected-login leak; one, without it, is
// restarted mid-run on the same port (the same instance, its counters back to 0). Through
// Prometheus' HTTP API: the leak alerts fire for the leaking instance and nothing ever goes even
// pending for the 7 others; every rule evaluates without error; the dashboard's job and instance
// variables list the job and the 8 instances; every dashboard query, with the variables set to one
// instance, answers for that instance alone.
//
// The alerts' `for:` are cut to FOR_IN_TEST, their expressions untouched (see cutFor in
// prometheus-server.mjs). That makes "nothing fires" stricter here than in production (a verdict
// true for 2 s would fire), and for the leak alerts the test checks that they stay active from their
// first evaluation to the end, as a longer `for:` needs.
//
// Runs once per `npm test` (scripts/test-lines.sh, after the Node.js lines), not on every line: it
// starts 9 processes for about 30 s. Alone: `npm run test:once`.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DASHBOARD_FILE, labelValuesQuery, panelsOf, substitute } from './support.mjs';
import { childProcesses, waitFor } from './children.mjs';
import { escapeRegex, requireBinary, startPrometheus } from './prometheus-server.mjs';
import { loginLoop, startDemo } from './demo-servers.mjs';
import { freePort } from '../../examples/lib/free-port.mjs';

const FLEET_SIZE = 8;
const LEAKING = 3;
const RESTARTED = 6;
const JOB = 'sspi-fleet';
const FOR_IN_TEST = '2s';
const MAX_AGE_CONTEXT = '3s';
/** Grafana's $__rate_interval for a 1 s scrape interval: four scrapes. */
const RATE_INTERVAL = '4s';
/**
 * What the leaking server must fire, as alertname/severity: a leak found (its contexts turn stale
 * after MAX_AGE_CONTEXT, or are garbage-collected undeleted), more than 1 a minute, the stale
 * contexts still live, and their number growing.
 */
const LEAK_ALERTS = ['SspiHandleLeakDetected/critical', 'SspiHandleLeakDetected/warning', 'SspiHandlesGrowing/warning', 'SspiStaleHandles/warning'];
/** Evaluations the restarted server must have had since it came back, before "nothing fired" counts. */
const AFTER_RESTART_MS = 6000;

describe('a fleet of 8 agents behind one real Prometheus', function () {
  this.timeout(60_000);

  const children = childProcesses();
  let started;
  let dir;
  let prometheus;
  let fleet;
  let logins;
  let loginsFrom;
  let restartedAt;
  let leakFiring;

  before(async function () {
    this.timeout(60_000);
    await requireBinary('prometheus');
    await requireBinary('promtool');
    started = Date.now();
    dir = mkdtempSync(join(tmpdir(), 'sspi-fleet-'));
    const ports = await distinctFreePorts(FLEET_SIZE);
    fleet = ports.map((metricsPort, index) => ({ index, metricsPort, instance: `127.0.0.1:${metricsPort}`, fixLeak: index !== LEAKING, url: undefined }));
    const [client] = await Promise.all([
      startPrometheus(children, { dir, jobs: [{ name: JOB, targets: fleet.map((m) => ({ instance: m.instance })) }], forInTest: FOR_IN_TEST }),
      ...fleet.map(startMember),
    ]);
    prometheus = client;
    // Prometheus' discovery hands it its first targets about 5 s after start.
    await waitFor(`all ${FLEET_SIZE} agents scraped`, async () => (await prometheus.query(`count(up{job="${JOB}"} == 1)`))[0]?.value[1] === String(FLEET_SIZE), 15_000);
    loginsFrom = Date.now();
    logins = loginLoop(() => fleet.filter((m) => m.url).map((m) => m.url), { pauseMs: 60 });

    const restarted = fleet[RESTARTED];
    const calls = async () => Number((await prometheus.query(`sum(sspi_calls_total{instance="${restarted.instance}"})`))[0]?.value[1] ?? 0);
    await waitFor('Prometheus holding 50+ calls of the server to restart', async () => (await calls()) >= 50, 15_000);
    restarted.url = undefined;
    await restarted.stop();
    await startMember(restarted);
    restartedAt = Date.now();
  });

  after(async function () {
    await logins?.stop();
    await children.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fires the leak alerts for the leaking server, each active without a break from its start', async function () {
    const leaking = fleet[LEAKING].instance;
    const firing = await waitFor(
      `${LEAK_ALERTS.join(', ')} firing for ${leaking}`,
      async () => {
        const now = (await prometheus.alerts()).filter((a) => a.labels.instance === leaking && a.state === 'firing');
        const names = now.map(nameAndSeverity);
        return LEAK_ALERTS.every((a) => names.includes(a)) ? now : undefined;
      },
      40_000,
    );
    for (const alert of firing.filter((a) => a.labels.alertname === 'SspiHandleLeakDetected' && a.labels.severity === 'warning')) {
      assert.ok(['age', 'collected'].includes(alert.labels.reason), alert.labels.reason);
      assert.equal(alert.labels.kind, 'context');
      assert.equal(alert.labels.package, 'NTLM');
    }
    leakFiring = firing;
    const reasons = [...new Set(firing.map((a) => a.labels.reason).filter(Boolean))].sort();
    this.test.title += ` (firing ${((Date.now() - loginsFrom) / 1000).toFixed(1)} s after the logins began; leak reasons ${reasons.join(', ')})`;
    // A few more evaluations: each alert is still firing, active since the same moment (a verdict
    // that turned false in between would have restarted it).
    await sleep(3000);
    const later = (await prometheus.alerts()).filter((a) => a.labels.instance === leaking);
    for (const alert of firing) {
      const same = later.find((a) => sameLabels(a.labels, alert.labels));
      assert.ok(same, `${nameAndSeverity(alert)} ${JSON.stringify(alert.labels)} resolved`);
      assert.equal(same.state, 'firing');
      assert.equal(same.activeAt, alert.activeAt, `${nameAndSeverity(alert)} restarted`);
    }
    logins.count();
  });

  it('fires nothing, not even pending, for the 7 other servers, the restarted one included', async function () {
    assert.ok(leakFiring, 'runs after the leak alerts fired');
    await sleep(Math.max(0, restartedAt + AFTER_RESTART_MS - Date.now()));
    const ever = await prometheus.query(`count by (instance, alertname, severity) (count_over_time(ALERTS{job="${JOB}"}[${sinceStart()}]))`);
    const byInstance = new Map();
    for (const s of ever) byInstance.set(s.metric.instance, [...(byInstance.get(s.metric.instance) ?? []), `${s.metric.alertname}/${s.metric.severity}`]);
    const others = [...byInstance.keys()].filter((i) => i !== fleet[LEAKING].instance);
    assert.deepEqual(others.map((i) => `${i}: ${byInstance.get(i)}`), [], 'alerts pending or firing for servers that do not leak');
    // The leaking server had the leak alerts and no other (no error ratio, no agent errors).
    assert.deepEqual([...new Set(byInstance.get(fleet[LEAKING].instance))].sort(), [...LEAK_ALERTS].sort());
    const now = await prometheus.alerts();
    assert.deepEqual([...new Set(now.map((a) => a.labels.instance))], [fleet[LEAKING].instance], 'instances with alerts now');
    this.test.title += ` (${AFTER_RESTART_MS / 1000} s after the restart; the leaking server: ${[...new Set(byInstance.get(fleet[LEAKING].instance))].sort().join(', ')})`;
  });

  it('evaluates every recording and alerting rule without error', async function () {
    const rules = (await prometheus.ruleGroups()).flatMap((g) => g.rules.map((r) => ({ group: g.name, ...r })));
    assert.ok(rules.length >= 15, `${rules.length} rules loaded`);
    const unhealthy = rules.filter((r) => r.health !== 'ok' || r.lastError);
    assert.deepEqual(unhealthy.map((r) => `${r.group}/${r.name}: ${r.health} ${r.lastError ?? ''}`), []);
  });

  it('saw the restarted server’s counters go back to 0 on the same instance, and scrapes it again', async function () {
    const instance = fleet[RESTARTED].instance;
    const [resets] = await prometheus.query(`sum(resets(sspi_calls_total{instance="${instance}"}[${sinceStart()}]))`);
    assert.ok(Number(resets?.value[1]) >= 1, `counter resets seen for ${instance}: ${resets?.value[1]}`);
    const [up] = await prometheus.query(`up{instance="${instance}"}`);
    assert.equal(up?.value[1], '1');
    const [since] = await prometheus.query(`sum(increase(sspi_calls_total{instance="${instance}"}[${Math.ceil((Date.now() - restartedAt) / 1000)}s]))`);
    assert.ok(Number(since?.value[1]) > 0, `calls counted since the restart: ${since?.value[1]}`);
  });

  it('lists the job and all 8 instances in the dashboard’s variables', async function () {
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8'));
    const variable = (name) => labelValuesQuery(dashboard.templating.list.find((v) => v.name === name).query);
    const range = { start: String(started / 1000), end: String(Date.now() / 1000) };
    // As Grafana runs label_values(<selector>, <label>): the label's values among the selector's series.
    const values = (name, vars) => {
      const { selector, label } = variable(name);
      return prometheus.api(`/api/v1/label/${label}/values`, { 'match[]': substitute(selector, vars), ...range });
    };
    assert.deepEqual(await values('job', {}), [JOB], 'job variable (Prometheus scrapes itself as job "prometheus" too)');
    const instances = fleet.map((m) => m.instance).sort();
    assert.deepEqual((await values('instance', { $job: JOB })).sort(), instances, 'instance variable, job set');
    assert.deepEqual((await values('instance', { $job: '.+' })).sort(), instances, 'instance variable, job All');
  });

  it('answers every dashboard query for each instance alone: data, one series per instance where the legend names it, the leak only on the leaking one', async function () {
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8'));
    const targets = panelsOf(dashboard).flatMap((panel) => panel.targets.map((t) => ({ panel: panel.title, refId: t.refId, expr: t.expr, legend: t.legendFormat ?? '' })));
    // One moment for every instant query, a little in the past: all samples of it are in.
    const at = Date.now() / 1000 - 1;
    const vars = (instance) => ({ $job: JOB, $instance: instance, $__rate_interval: RATE_INTERVAL, $__range: sinceStart(), $__interval: '1s' });
    const all = vars('.+');
    const one = new Map(fleet.map((m) => [m.instance, vars(escapeRegex(m.instance))]));
    const problems = [];

    for (const target of targets) {
      const name = `${target.panel} ${target.refId}`;
      // A series per instance is what the panel shows where its legend names the instance.
      const byInstance = /\{\{\s*instance\s*\}\}/.test(target.legend);
      const allResult = await prometheus.query(substitute(target.expr, all), at);
      if (byInstance) {
        const seen = allResult.map((s) => s.metric.instance).sort();
        if (JSON.stringify(seen) !== JSON.stringify(fleet.map((m) => m.instance).sort())) problems.push(`${name}, all instances: series for ${seen}`);
      }
      const perInstance = new Map();
      for (const [instance, v] of one) {
        const expr = substitute(target.expr, v);
        const range = await prometheus.api('/api/v1/query_range', { query: expr, start: String(at - 10), end: String(at), step: '1' });
        if (!range.some((s) => s.values.some(([, value]) => Number.isFinite(Number(value))))) problems.push(`${name}, ${instance}: no data`);
        const result = await prometheus.query(expr, at);
        if (byInstance && (result.length !== 1 || result[0].metric.instance !== instance)) problems.push(`${name}, ${instance}: series for ${result.map((s) => s.metric.instance)}`);
        perInstance.set(instance, result);
      }
      // A sum over the selected instances: the 8 answers add up to the answer for all of them.
      if (isSum(target.expr)) {
        const total = new Map();
        for (const result of perInstance.values()) for (const s of result) total.set(key(s.metric), (total.get(key(s.metric)) ?? 0) + Number(s.value[1]));
        for (const s of allResult) {
          const sum = total.get(key(s.metric)) ?? 0;
          if (Math.abs(sum - Number(s.value[1])) > 1e-9 * Math.max(1, Math.abs(sum))) problems.push(`${name}: the instances add up to ${sum}, all of them give ${s.value[1]}`);
        }
      }
      target.perInstance = perInstance;
    }
    assert.deepEqual(problems, [], 'dashboard queries');
    assert.ok(targets.length >= 20, `${targets.length} queries`);

    // The overview's leak panels point at the leaking server alone.
    const stat = (panel, instance) => Number(targets.find((t) => t.panel === panel).perInstance.get(instance)[0].value[1]);
    for (const m of fleet) {
      const leaked = stat('Leaked in time range', m.instance);
      const stale = stat('Stale now', m.instance);
      if (m.index === LEAKING) assert.ok(leaked > 0 && stale > 0, `${m.instance} leaking: ${leaked} leaked, ${stale} stale`);
      else assert.ok(leaked === 0 && stale === 0, `${m.instance}: ${leaked} leaked, ${stale} stale`);
    }
    this.test.title += ` — ${targets.length} queries × ${FLEET_SIZE} instances; fleet up to here ${((Date.now() - started) / 1000).toFixed(1)} s, ${logins.count()} logins`;
  });

  // --- helpers -------------------------------------------------------------------------------

  async function startMember(member) {
    const server = await startDemo(children, { fixLeak: member.fixLeak, metricsPort: member.metricsPort, maxAgeContext: MAX_AGE_CONTEXT });
    member.url = server.url;
    member.stop = server.stop;
  }

  /** A range reaching back past the start of the run. */
  function sinceStart() {
    return `${Math.ceil((Date.now() - started) / 1000) + 5}s`;
  }
});

async function distinctFreePorts(count) {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function nameAndSeverity(alert) {
  return `${alert.labels.alertname}/${alert.labels.severity}`;
}

function sameLabels(a, b) {
  return key(a) === key(b);
}

function key(labels) {
  return JSON.stringify(Object.entries(labels).sort(([x], [y]) => x.localeCompare(y)));
}

/** A query whose answer is a sum over the selected series (a constant factor allowed), nothing else. */
function isSum(expr) {
  return /^(\d+ \* )?sum\b/.test(expr) && !/ \/ |\bor\b|histogram_quantile/.test(expr);
}
