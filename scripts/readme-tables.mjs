#!/usr/bin/env node
// Generates the configuration and metrics tables of the README and docs/opentelemetry.md from the
// code that defines them (the settings table in src/config.ts, the metric catalog in
// src/metrics/catalog.ts, which a test holds both exporters to), so the documentation cannot drift.
// `--check` exits 1 when a file is out of date; without it, rewrites them.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ENV_PREFIX, SETTINGS } from '../dist/config.js';
import { CATALOG } from '../dist/metrics/catalog.js';
import { otelInstrument, otelViews, prometheusViews } from '../dist/metrics/model.js';

const README = fileURLToPath(new URL('../README.md', import.meta.url));
const OTEL_DOC = fileURLToPath(new URL('../docs/opentelemetry.md', import.meta.url));
const code = (names) => names.map((n) => `\`${n}\``).join(', ');

export function configTable() {
  const rows = Object.values(SETTINGS).map((s) => `| \`${ENV_PREFIX}${s.name}\` | ${s.type} | ${s.shownDefault} | ${s.doc} |`);
  return ['| variable | values | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function metricsTable() {
  const rows = prometheusViews(CATALOG).map((m) => `| \`${m.name}\` | ${m.def.type} | ${code(m.labels.map((l) => l.name))} | ${m.help} |`);
  return ['| metric | type | labels | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function otelMetricsTable() {
  const rows = otelViews(CATALOG).map((m) => {
    const prometheus = `\`${m.def.name}\`` + (m.def.otel.note ? ` (${m.def.otel.note})` : '');
    return `| \`${m.name}\` | ${otelInstrument(m.def)} | \`${m.def.unit}\` | ${code(m.labels.map((l) => l.attribute))} | ${prometheus} |`;
  });
  return ['| metric | instrument | unit | attributes | Prometheus |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

function replaceBetween(text, marker, body) {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`no ${start} … ${end} block`);
  return text.slice(0, i + start.length) + '\n' + body + '\n' + text.slice(j);
}

export async function renderReadme(text) {
  return replaceBetween(replaceBetween(text, 'config-table', configTable()), 'metrics-table', metricsTable());
}

export function renderOtelDoc(text) {
  return replaceBetween(text, 'otel-metrics-table', otelMetricsTable());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let stale = false;
  for (const [file, render] of [[README, renderReadme], [OTEL_DOC, renderOtelDoc]]) {
    const current = readFileSync(file, 'utf8');
    const wanted = await render(current);
    if (wanted === current) continue;
    if (process.argv.includes('--check')) {
      console.error(`${file}: tables are out of date: run \`npm run docs\``);
      stale = true;
    } else {
      writeFileSync(file, wanted);
      console.log(`${file}: tables updated`);
    }
  }
  if (stale) process.exit(1);
}
