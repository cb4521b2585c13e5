#!/usr/bin/env node
// Generates the README's configuration and metrics tables from the code that defines them
// (the settings table in src/config.ts, the metrics the Prometheus exporter registers), so the
// documentation cannot drift. `--check` exits 1 when the README is out of date; without it, rewrites it.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ENV_PREFIX, SETTINGS } from '../dist/config.js';
import { HandleRegistry } from '../dist/registry.js';
import { PrometheusExporter } from '../dist/exporters/prometheus.js';

const README = fileURLToPath(new URL('../README.md', import.meta.url));

export function configTable() {
  const rows = Object.values(SETTINGS).map((s) => `| \`${ENV_PREFIX}${s.name}\` | ${s.type} | ${s.shownDefault} | ${s.doc} |`);
  return ['| variable | values | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export async function metricsTable() {
  const exporter = new PrometheusExporter(new HandleRegistry());
  const metrics = await exporter.registry.getMetricsAsJSON();
  const labels = (name) => exporter.registry.getSingleMetric(name).labelNames.map((l) => `\`${l}\``).join(', ');
  const rows = metrics.map((m) => `| \`${m.name}\` | ${m.type} | ${labels(m.name)} | ${m.help} |`);
  return ['| metric | type | labels | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

function replaceBetween(text, marker, body) {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md has no ${start} … ${end} block`);
  return text.slice(0, i + start.length) + '\n' + body + '\n' + text.slice(j);
}

export async function renderReadme(text) {
  return replaceBetween(replaceBetween(text, 'config-table', configTable()), 'metrics-table', await metricsTable());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const current = readFileSync(README, 'utf8');
  const wanted = await renderReadme(current);
  if (process.argv.includes('--check')) {
    if (wanted !== current) {
      console.error('README.md tables are out of date: run `npm run docs`');
      process.exit(1);
    }
  } else if (wanted !== current) {
    writeFileSync(README, wanted);
    console.log('README.md tables updated');
  }
}
