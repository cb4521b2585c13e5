// The Grafana dashboard: generated from dashboards/src/*.ts with Grafana's Foundation SDK, committed
// as dashboards/sspi-agent.json, and linted: data source variable on every panel, valid PromQL,
// only the agent's own metrics (from its registry) or series our recording rules define, a unit
// on every panel, $__rate_interval in every rate.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  DASHBOARD_FILE,
  LINT_VARIABLES,
  agentSeriesNames,
  buildGenerator,
  labelValuesQuery,
  panelsOf,
  parsePromQL,
  recordedSeries,
  substitute,
} from './support.mjs';

const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8'));
const panels = panelsOf(dashboard);
const queries = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, target })));

describe('dashboard', function () {
  let agentNames;
  let records;

  before(async function () {
    agentNames = await agentSeriesNames();
    records = recordedSeries();
  });

  it('is what the TypeScript generator builds (npm run dashboards)', async function () {
    this.timeout(60_000);
    const { dashboardJson } = await buildGenerator();
    assert.equal(readFileSync(DASHBOARD_FILE, 'utf8'), dashboardJson(), 'dashboards/sspi-agent.json is stale: run `npm run dashboards`');
  });

  it('has a Prometheus data source variable and job/instance variables that read from it', function () {
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    const ds = vars.get('datasource');
    assert.equal(ds?.type, 'datasource');
    assert.equal(ds.query, 'prometheus');
    for (const name of ['job', 'instance']) {
      const v = vars.get(name);
      assert.equal(v?.type, 'query', name);
      assert.equal(v.datasource?.uid, '${datasource}', name);
      const lv = labelValuesQuery(v.query);
      assert.ok(lv, `${name}: ${JSON.stringify(v.query)} is not label_values(selector, label)`);
      assert.equal(lv.label, name);
      const parsed = parsePromQL(substitute(lv.selector, LINT_VARIABLES));
      assert.deepEqual(parsed.errors, [], lv.selector);
      for (const s of parsed.selectors) assert.ok(agentNames.has(s.metric), `${name} variable reads ${s.metric}`);
    }
    assert.match(vars.get('instance').query.query ?? vars.get('instance').query, /job=~"\$job"/, 'instance follows job');
  });

  it('has the panels the issue asks for', function () {
    const titles = panels.map((p) => p.title);
    for (const wanted of [
      /^Live handles by kind and package$/,
      /^Opened vs closed$/,
      /^Leaks by reason$/,
      /^Oldest live handle age$/,
      /^Stale and abandoned handles$/,
      /^SSPI calls by status$/,
      /^SSPI error ratio$/,
      /^Call latency p50 \/ p99 by function$/,
      /^Invalid, double and out-of-order releases$/,
      /^Forced cleanups$/,
    ]) {
      assert.ok(titles.some((t) => wanted.test(t)), `no panel ${wanted}`);
    }
  });

  it('reads the data source variable in every panel and every query', function () {
    for (const panel of panels) {
      assert.equal(panel.datasource?.uid, '${datasource}', panel.title);
      assert.ok(panel.targets?.length > 0, `${panel.title} has no query`);
      for (const target of panel.targets) assert.equal(target.datasource?.uid, '${datasource}', `${panel.title} ${target.refId}`);
    }
  });

  it('sets a unit on every panel', function () {
    for (const panel of panels) assert.ok(panel.fieldConfig?.defaults?.unit, `${panel.title} has no unit`);
  });

  it('gives every panel a unique id and every query a unique refId in its panel', function () {
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const panel of panels) {
      const refIds = panel.targets.map((t) => t.refId);
      assert.ok(refIds.every(Boolean) && new Set(refIds).size === refIds.length, panel.title);
    }
  });

  it('writes every query in valid PromQL (Prometheus’ lezer grammar)', function () {
    assert.ok(queries.length >= 20, `only ${queries.length} queries`);
    for (const { panel, target } of queries) {
      const expr = substitute(target.expr, LINT_VARIABLES);
      const { errors } = parsePromQL(expr);
      assert.deepEqual(errors, [], `${panel} ${target.refId}: syntax error at ${errors[0]} in ${expr}`);
    }
  });

  it('uses only metrics the agent exports, or series the recording rules define from them', function () {
    for (const [record, expr] of records) {
      for (const s of parsePromQL(expr).selectors) {
        assert.ok(agentNames.has(s.metric) || records.has(s.metric), `recording rule ${record} reads ${s.metric}, not an agent metric`);
      }
    }
    for (const { panel, target } of queries) {
      const { selectors } = parsePromQL(substitute(target.expr, LINT_VARIABLES));
      assert.ok(selectors.length > 0, `${panel}: no metric`);
      for (const s of selectors) {
        assert.ok(s.metric, `${panel}: a selector without a metric name`);
        assert.ok(agentNames.has(s.metric) || records.has(s.metric), `${panel} ${target.refId}: ${s.metric} is neither an agent metric nor a recorded series`);
      }
    }
  });

  it('shows every metric the agent exports somewhere', function () {
    const used = new Set(queries.flatMap(({ target }) => parsePromQL(substitute(target.expr, LINT_VARIABLES)).selectors.map((s) => s.metric)));
    const families = [...agentNames].filter(([, type]) => type !== 'histogram').map(([name]) => name);
    const histograms = [...agentNames].filter(([name, type]) => type === 'histogram' && !/_(bucket|sum|count)$/.test(name)).map(([name]) => name);
    for (const name of families) assert.ok(used.has(name), `${name} is on no panel`);
    for (const name of histograms) assert.ok(used.has(`${name}_bucket`), `${name} is on no panel`);
  });

  it('scopes every selector by the job and instance variables', function () {
    for (const { panel, target } of queries) {
      for (const s of parsePromQL(target.expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h')).selectors) {
        assert.match(s.matchers, /job=~"\$job"/, `${panel}: ${s.metric}`);
        assert.match(s.matchers, /instance=~"\$instance"/, `${panel}: ${s.metric}`);
      }
    }
  });

  it('uses $__rate_interval for every rate (and $__range only for a stat’s total over the time range)', function () {
    let rates = 0;
    for (const { panel, target } of queries) {
      for (const r of parsePromQL(substitute(target.expr, LINT_VARIABLES)).ranges) {
        rates++;
        const kind = panels.find((p) => p.title === panel).type;
        if (r.duration === LINT_VARIABLES.$__range) {
          assert.equal(kind, 'stat', `${panel}: $__range outside a stat`);
          assert.equal(r.fn, 'increase', panel);
        } else {
          assert.equal(r.duration, LINT_VARIABLES.$__rate_interval, `${panel}: ${r.fn}(…[${r.duration}]) does not use $__rate_interval`);
          assert.ok(['rate', 'increase'].includes(r.fn), `${panel}: ${r.fn}`);
        }
      }
    }
    assert.ok(rates > 10);
  });
});
