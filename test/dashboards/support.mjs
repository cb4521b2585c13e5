// Shared by the dashboard, rule and end-to-end tests: where things are, the agent's own metric names,
// PromQL parsing with Prometheus' own lezer grammar, Grafana variable substitution, rule files.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { parser } from '@prometheus-io/lezer-promql';
import { REPO } from '../helpers/run-app.mjs';

export { REPO };
export const DASHBOARDS = join(REPO, 'dashboards');
export const DASHBOARD_FILE = join(DASHBOARDS, 'sspi-agent.json');
export const RULES_FILE = join(DASHBOARDS, 'prometheus', 'sspi-agent-rules.yml');
export const ALERTS_FILE = join(DASHBOARDS, 'prometheus', 'sspi-agent-alerts.yml');
export const RULE_TESTS_FILE = join(DASHBOARDS, 'prometheus', 'tests', 'sspi-agent-alerts.test.yml');
export const RUNBOOK_FILE = join(DASHBOARDS, 'runbook.md');

export const run = promisify(execFile);

/** Compiles the dashboard generator (dashboards/src → dashboards/build) with the repo's tsc. */
export async function buildGenerator() {
  await run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(DASHBOARDS, 'tsconfig.json')], { cwd: REPO });
  return import(join(DASHBOARDS, 'build', 'dashboard.js'));
}

/**
 * Every series name the agent exports, read from its own registry (which
 * test/unit/metric-catalog.test.mjs holds to the catalog): a histogram contributes its _bucket, _sum
 * and _count series.
 */
export async function agentSeriesNames() {
  const { HandleRegistry } = await import(join(REPO, 'dist', 'core', 'registry.js'));
  const { PrometheusExporter } = await import(join(REPO, 'dist', 'exporters', 'prometheus.js'));
  const exporter = new PrometheusExporter(new HandleRegistry());
  try {
    const metrics = await exporter.registry.getMetricsAsJSON();
    const names = new Map();
    for (const m of metrics) {
      names.set(m.name, m.type);
      if (m.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.set(m.name + suffix, 'histogram');
    }
    return names;
  } finally {
    exporter.stop?.();
  }
}

/** Grafana's variables, replaced by values that keep the query valid PromQL. */
export const LINT_VARIABLES = { $__rate_interval: '4242s', $__range: '4343s', $__interval: '4141s', $job: 'lint-job', $instance: 'lint-instance' };

/** `expr` with Grafana's `$name` / `${name}` variables replaced (longest names first). */
export function substitute(expr, values) {
  let out = expr;
  for (const name of Object.keys(values).sort((a, b) => b.length - a.length)) {
    const bare = name.slice(1);
    out = out.split(`\${${bare}}`).join(values[name]).split(name).join(values[name]);
  }
  return out;
}

/**
 * Parses PromQL with Prometheus' lezer grammar (the one its web UI uses). Returns the syntax errors
 * (positions), the vector selectors (metric name and label matchers as text) and the durations of
 * range selectors and the functions applied to them.
 */
export function parsePromQL(expr) {
  const tree = parser.parse(expr);
  const errors = [];
  const selectors = [];
  const ranges = [];
  const text = (node) => expr.slice(node.from, node.to);
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) errors.push(ref.from);
      if (ref.name === 'VectorSelector') {
        const node = ref.node;
        const name = node.getChild('Identifier');
        const matchers = node.getChild('LabelMatchers');
        selectors.push({ metric: name ? text(name) : undefined, matchers: matchers ? text(matchers) : '' });
      }
      if (ref.name === 'MatrixSelector') {
        const node = ref.node;
        const duration = node.lastChild;
        let fn;
        for (let p = node.parent; p; p = p.parent) {
          if (p.name === 'FunctionCall') {
            fn = text(p.getChild('FunctionIdentifier'));
            break;
          }
        }
        ranges.push({ duration: duration ? text(duration) : '', fn });
      }
    },
  });
  return { errors, selectors, ranges };
}

export function loadYaml(file) {
  return yaml.load(readFileSync(file, 'utf8'));
}

/** Recorded series name → its expression, from the recording rules file. */
export function recordedSeries() {
  const records = new Map();
  for (const group of loadYaml(RULES_FILE).groups) for (const rule of group.rules) if (rule.record) records.set(rule.record, rule.expr);
  return records;
}

/** The alerting rules, each with its group name. */
export function alertRules() {
  return loadYaml(ALERTS_FILE).groups.flatMap((group) => group.rules.map((rule) => ({ group: group.name, ...rule })));
}

/** The panels of a dashboard with their queries (rows left out, nested row panels included). */
export function panelsOf(dashboard) {
  const out = [];
  for (const panel of dashboard.panels) {
    if (panel.type === 'row') out.push(...(panel.panels ?? []));
    else out.push(panel);
  }
  return out;
}

/** `label_values(<selector>, <label>)` of a Grafana query variable: the selector and label. */
export function labelValuesQuery(query) {
  const text = typeof query === 'string' ? query : query.query;
  const match = /^label_values\((.+),\s*(\w+)\)$/.exec(text);
  return match ? { selector: match[1], label: match[2] } : undefined;
}
