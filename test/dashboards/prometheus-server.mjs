// A real Prometheus server (Debian's package) for the live tests: 1 s scrape and evaluation
// intervals, the shipped recording rules as they are, the shipped alerts with only their `for:` cut
// (see cutFor), listening on 127.0.0.1; and a client of its HTTP API.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALERTS_FILE, RULES_FILE, run } from './support.mjs';
import { waitFor } from './children.mjs';
import { freePort } from '../../examples/lib/free-port.mjs';

/** Fails, saying how to install it, unless `name --version` runs. */
export async function requireBinary(name) {
  try {
    await run(name, ['--version']);
  } catch {
    assert.fail(`${name} is not installed: run scripts/setup-prometheus.sh (Debian package prometheus)`);
  }
}

/**
 * The shipped alerts with every `for:` set to `forInTest`, their expressions untouched. An
 * expression's verdict is what production computes on the same samples (its ranges, 5m to 1h, reach
 * back past the test's start, as in a process's first minutes); `for:` only delays a true verdict
 * into firing, and promtool's unit tests (dashboards/prometheus/tests) hold each shipped `for:`.
 */
export function cutFor(shipped, forInTest) {
  const rules = shipped.match(/^\s+- alert: /gm).length;
  let cut = 0;
  const text = shipped.replace(/^(\s+for:\s*)\S+[ \t]*$/gm, (_, key) => (cut++, key + forInTest));
  assert.equal(cut, rules, 'every alert has a for: line');
  return text;
}

/**
 * Starts Prometheus in `children`, its data and configuration in `dir`, scraping each job's targets
 * ({ name, targets: [{ instance, labels? }] }) and, as job "prometheus", itself. Resolves once it is
 * ready, with its API client.
 */
export async function startPrometheus(children, { dir, jobs, forInTest }) {
  const port = await freePort();
  const self = `127.0.0.1:${port}`;
  const alertsFile = join(dir, 'sspi-agent-alerts.yml');
  writeFileSync(alertsFile, cutFor(readFileSync(ALERTS_FILE, 'utf8'), forInTest));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, configText({ rules: [RULES_FILE, alertsFile], jobs: [...jobs, { name: 'prometheus', targets: [{ instance: self }] }] }));
  await run('promtool', ['check', 'config', config]);
  children.start('prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=${self}`,
    '--log.level=warn',
  ]);
  const client = prometheusClient(`http://${self}`);
  await waitFor('Prometheus ready', async () => (await fetch(`${client.base}/-/ready`).catch(() => undefined))?.ok, 15_000);
  return client;
}

function configText({ rules, jobs }) {
  const lines = ['global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', '  evaluation_interval: 1s', 'rule_files:'];
  for (const file of rules) lines.push(`  - ${JSON.stringify(file)}`);
  lines.push('scrape_configs:');
  for (const job of jobs) {
    lines.push(`  - job_name: ${job.name}`, '    static_configs:');
    for (const t of job.targets) {
      lines.push(`      - targets: ['${t.instance}']`);
      if (t.labels) lines.push(`        labels: ${JSON.stringify(t.labels)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Prometheus' HTTP API at `base`: each call resolves with `data.result` (or `data`), or throws its error. */
export function prometheusClient(base) {
  const api = async (path, params = {}) => {
    const response = await fetch(`${base}${path}?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(5000) });
    const body = await response.json();
    if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
    return body.data.result ?? body.data;
  };
  return {
    base,
    api,
    /** An instant query, now or at `time` (Unix seconds). */
    query: (expr, time) => api('/api/v1/query', time === undefined ? { query: expr } : { query: expr, time: String(time) }),
    /** The alerts pending or firing now. */
    alerts: async () => (await api('/api/v1/alerts')).alerts,
    /** The rule groups with each rule's health and last error. */
    ruleGroups: async () => (await api('/api/v1/rules')).groups,
  };
}

/** `text` as a PromQL regular expression in a double-quoted string (how Grafana fills `=~"$var"`). */
export function escapeRegex(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');
}
