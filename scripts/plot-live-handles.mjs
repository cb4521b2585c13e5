#!/usr/bin/env node
// Plots the live-context series that the dashboards' end-to-end test scraped with Prometheus (the
// leaking and the fixed NTLM demo server) as docs/dashboards.md's picture of the "Live handles" panel:
// an SVG drawn here, turned into a PNG by rsvg-convert (Debian package librsvg2-bin).
//
//   npm run dashboards:plot     # runs the e2e test with DASHBOARDS_E2E_SERIES set, then this
//   node scripts/plot-live-handles.mjs <series.json> <out.png>
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const WIDTH = 900;
const HEIGHT = 420;
const PAD = { left: 70, right: 30, top: 56, bottom: 58 };
const COLORS = { leak: '#e02f44', fixed: '#37872d' };
const LABELS = { leak: 'demo server with the leak', fixed: 'demo server, leak fixed (DEMO_FIX_LEAK=1)' };

export function renderSvg({ series: scraped, loginsAfter, firingAfter: firingAtTest, maxAgeContext, forInTest }) {
  // Time from the first login (the test starts them once Prometheus scrapes both servers).
  const t0 = loginsAfter ?? Math.min(...scraped.flatMap((s) => s.values.map(([t]) => t)));
  const series = scraped.map((s) => ({ ...s, values: s.values.map(([t, v]) => [t - t0, v]).filter(([t]) => t >= 0) }));
  const firingAfter = firingAtTest - t0;
  const points = series.flatMap((s) => s.values);
  const xMax = Math.max(...points.map(([t]) => t));
  const yMax = niceCeil(Math.max(1, ...points.map(([, v]) => v)));
  const x = (t) => PAD.left + (t / xMax) * (WIDTH - PAD.left - PAD.right);
  const y = (v) => HEIGHT - PAD.bottom - (v / yMax) * (HEIGHT - PAD.top - PAD.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="DejaVu Sans, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#181b1f"/>`,
    `<text x="${PAD.left}" y="24" fill="#ccccdc" font-size="15" font-weight="bold">Live handles by kind and package: sspi_handles_live{kind="context", package="NTLM"}</text>`,
    `<text x="${PAD.left}" y="43" fill="#8e8e8e" font-size="12">NTLM demo under the agent, scraped every 1 s; a login every ~40 ms, every 4th rejected; SSPI_AGENT_MAX_AGE_CONTEXT=${maxAgeContext}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    parts.push(`<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#2c3235"/>`);
    parts.push(`<text x="${PAD.left - 8}" y="${y(v) + 4}" fill="#8e8e8e" text-anchor="end">${v}</text>`);
  }
  for (let t = 0; t <= xMax; t += 5) {
    parts.push(`<text x="${x(t)}" y="${HEIGHT - PAD.bottom + 18}" fill="#8e8e8e" text-anchor="middle">${t}s</text>`);
  }
  parts.push(`<text x="${(PAD.left + WIDTH - PAD.right) / 2}" y="${HEIGHT - 20}" fill="#8e8e8e" text-anchor="middle">seconds since the first login</text>`);
  if (firingAfter) {
    parts.push(`<line x1="${x(firingAfter)}" x2="${x(firingAfter)}" y1="${PAD.top}" y2="${HEIGHT - PAD.bottom}" stroke="#ff9830" stroke-dasharray="5,4"/>`);
    const label = `SspiHandleLeakDetected firing${forInTest ? ` (for: ${forInTest} in the test)` : ''}`;
    parts.push(`<text x="${x(firingAfter) + 6}" y="${PAD.top + 14}" fill="#ff9830">${label}</text>`);
  }
  series.forEach((s, i) => {
    const path = s.values.map(([t, v], j) => `${j ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${COLORS[s.demo]}" stroke-width="2"/>`);
    // The legend sits bottom right, below a leak's rising line.
    const lx = WIDTH - PAD.right - 320;
    const ly = HEIGHT - PAD.bottom - 50 + i * 18;
    parts.push(`<line x1="${lx}" x2="${lx + 20}" y1="${ly - 4}" y2="${ly - 4}" stroke="${COLORS[s.demo]}" stroke-width="3"/>`);
    parts.push(`<text x="${lx + 26}" y="${ly}" fill="#ccccdc">${LABELS[s.demo] ?? s.demo}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function niceCeil(v) {
  const step = 10 ** Math.floor(Math.log10(v));
  return Math.ceil(v / step) * step;
}

function main([input, output]) {
  if (!input || !output) {
    console.error('usage: node scripts/plot-live-handles.mjs <series.json> <out.png|out.svg>');
    return 2;
  }
  const data = JSON.parse(readFileSync(input, 'utf8'));
  data.series.sort((a, b) => a.demo.localeCompare(b.demo));
  const svg = renderSvg(data);
  if (output.endsWith('.svg')) {
    writeFileSync(output, svg);
  } else {
    try {
      execFileSync('rsvg-convert', ['--format', 'png', '--output', output], { input: svg });
    } catch (err) {
      console.error(`rsvg-convert failed (${err.message}): apt-get install librsvg2-bin, or give an .svg output`);
      return 1;
    }
  }
  console.log(`wrote ${output}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
