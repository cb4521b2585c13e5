// The Prometheus rules: promtool accepts them, promtool's unit tests pass (each alert firing and not
// firing), they follow the mixin conventions, and every runbook_url points at a runbook section.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ALERTS_FILE,
  RULES_FILE,
  RULE_TESTS_FILE,
  RUNBOOK_FILE,
  agentSeriesNames,
  alertRules,
  loadYaml,
  parsePromQL,
  recordedSeries,
  run,
} from './support.mjs';

const RUNBOOK_BASE = 'https://github.com/sspi-agent/sspi-agent/blob/main/dashboards/runbook.md';

/** promtool's path, or a failure that says how to install it. */
export async function promtool() {
  try {
    await run('promtool', ['--version']);
    return 'promtool';
  } catch {
    assert.fail('promtool is not installed: run scripts/setup-prometheus.sh (Debian package prometheus)');
  }
}

/** The anchors GitHub gives a markdown file's headings. */
function anchors(markdown) {
  return new Set(
    [...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map(([, heading]) =>
      heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    ),
  );
}

describe('Prometheus rules', function () {
  this.timeout(30_000);

  it('pass promtool check rules', async function () {
    const { stdout } = await run(await promtool(), ['check', 'rules', RULES_FILE, ALERTS_FILE]);
    assert.match(stdout, /SUCCESS/);
  });

  it('pass their promtool unit tests (input series → expected alerts)', async function () {
    const tool = await promtool();
    try {
      await run(tool, ['test', 'rules', RULE_TESTS_FILE]);
    } catch (err) {
      assert.fail(`promtool test rules failed:\n${err.stdout}${err.stderr}`);
    }
  });

  it('have a unit test where each alert and severity fires, and one where each alert does not', function () {
    const tests = loadYaml(RULE_TESTS_FILE).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of alertRules()) {
      const cases = tests.filter((t) => t.alertname === rule.alert);
      assert.ok(
        cases.some((t) => t.exp_alerts.some((a) => a.exp_labels.severity === rule.labels.severity)),
        `${rule.alert} (${rule.labels.severity}) never fires in a unit test`,
      );
      assert.ok(
        cases.some((t) => t.exp_alerts.every((a) => a.exp_labels.severity !== rule.labels.severity)),
        `${rule.alert} (${rule.labels.severity}) has no not-firing unit test`,
      );
    }
  });

  it('follow the mixin conventions: group sspi-agent, Sspi* PascalCase names, for:, severity, annotations', function () {
    const rules = alertRules();
    assert.ok(rules.length >= 6);
    for (const rule of rules) {
      assert.equal(rule.group, 'sspi-agent');
      assert.match(rule.alert, /^Sspi(?:[A-Z][a-z0-9]+)+$/);
      assert.match(String(rule.for ?? ''), /^\d+[smhd]$/, `${rule.alert}: for:`);
      assert.ok(['warning', 'critical'].includes(rule.labels?.severity), `${rule.alert}: severity`);
      const { summary, description, runbook_url: runbook } = rule.annotations ?? {};
      assert.ok(summary && !summary.includes('{{'), `${rule.alert}: a fixed summary`);
      assert.match(description ?? '', /\{\{ \$labels\.instance \}\}/, `${rule.alert}: description names the instance`);
      assert.match(description, /\{\{ \$value/, `${rule.alert}: description gives the value`);
      assert.equal(runbook, `${RUNBOOK_BASE}#${rule.alert.toLowerCase()}`, `${rule.alert}: runbook_url`);
    }
    const recording = loadYaml(RULES_FILE).groups;
    for (const group of recording) assert.match(group.name, /^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'group names are kebab-case');
    for (const record of recordedSeries().keys()) assert.match(record, /^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/, `${record}: level:metric:operations`);
  });

  it('point every runbook_url at a section of dashboards/runbook.md that names the alert', function () {
    const runbook = readFileSync(RUNBOOK_FILE, 'utf8');
    const sections = anchors(runbook);
    for (const rule of alertRules()) {
      const anchor = rule.annotations.runbook_url.split('#')[1];
      assert.ok(sections.has(anchor), `runbook.md has no section #${anchor}`);
    }
    assert.match(runbook, /critical/i);
    assert.match(runbook, /warning/i);
  });

  it('read only the agent’s metrics and the recorded series', async function () {
    const names = await agentSeriesNames();
    const records = recordedSeries();
    for (const rule of alertRules()) {
      const { errors, selectors } = parsePromQL(rule.expr);
      assert.deepEqual(errors, [], rule.alert);
      for (const s of selectors) assert.ok(names.has(s.metric) || records.has(s.metric), `${rule.alert} reads ${s.metric}`);
    }
  });
});
