#!/usr/bin/env node
// Soak test (not in CI): runs the NTLM demo server under the agent for N minutes, logs in over and
// over (every 4th login with a wrong password), and records the server's RSS and the agent's live
// handle counts over time, as JSON and as a PNG plot (an SVG turned into PNG by rsvg-convert, Debian
// package librsvg2-bin, as scripts/plot-live-handles.mjs does).
//
//   npm run build && node scripts/soak.mjs --minutes 10 [--out .tmp/soak] [--leak] [--interval 5]
//
// By default the server runs with its leak fixed (DEMO_FIX_LEAK=1): live handles stay flat, so RSS
// should flatten once warm. --leak keeps the demo's rejected-login leak (live contexts grow).
// Loopback only; the run stops by itself after --minutes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../examples/lib/free-port.mjs';
import { startDemoServer } from '../examples/ntlm-demo/server-process.mjs';
import { demoUser } from '../examples/ntlm-demo/users.mjs';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Who logs in: the demo server's user, read from the same DEMO_* variables the server reads. */
const DEMO_USER = demoUser();

function parseArgs(argv) {
  const options = { minutes: 10, out: join(REPO, '.tmp', 'soak'), leak: false, interval: 5, agent: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--minutes') options.minutes = Number(argv[++i]);
    else if (arg === '--out') options.out = argv[++i];
    else if (arg === '--interval') options.interval = Number(argv[++i]);
    else if (arg === '--leak') options.leak = true;
    else if (arg === '--no-agent') options.agent = false;
    else throw new Error(`usage: node scripts/soak.mjs [--minutes N] [--out DIR] [--interval SECONDS] [--leak] [--no-agent] (unknown ${arg})`);
  }
  if (!(options.minutes > 0) || !(options.interval > 0)) throw new Error('--minutes and --interval must be positive numbers');
  return options;
}

/** Resident set size of a process, in bytes, from /proc (Linux). */
function rssOf(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

function scrape(port) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

function sumOf(text, name, labels = {}) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------
// The plot: RSS (MB) and live contexts over time, one panel each.

const W = 900;
const PANEL = 220;
const PAD = { left: 80, right: 30, top: 60, gap: 50, bottom: 50 };

function renderSvg(run) {
  const { samples } = run;
  const t = samples.map((s) => s.t);
  const xMax = Math.max(1, ...t);
  const x = (v) => PAD.left + (v / xMax) * (W - PAD.left - PAD.right);
  const height = PAD.top + 2 * PANEL + PAD.gap + PAD.bottom;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#181b1f"/>`,
    `<text x="${PAD.left}" y="24" fill="#ccccdc" font-size="15" font-weight="bold">sspi-agent soak: NTLM demo server${run.leak ? ' (with its rejected-login leak)' : ' (leak fixed)'}${run.agent ? '' : ' WITHOUT the agent'}, ${run.minutes} min</text>`,
    `<text x="${PAD.left}" y="43" fill="#8e8e8e" font-size="12">${run.logins} logins (every 4th rejected), ${run.loginsPerSecond.toFixed(0)}/s; server RSS from /proc, live handles from the agent's /metrics</text>`,
  ];
  const panel = (top, label, color, values, unit) => {
    const yMax = niceCeil(Math.max(1, ...values));
    const y = (v) => top + PANEL - (v / yMax) * PANEL;
    for (let i = 0; i <= 4; i++) {
      const v = (yMax / 4) * i;
      parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#2c3235"/>`);
      parts.push(`<text x="${PAD.left - 8}" y="${y(v) + 4}" fill="#8e8e8e" text-anchor="end">${+v.toFixed(1)}${unit}</text>`);
    }
    parts.push(`<text x="${PAD.left}" y="${top - 8}" fill="#ccccdc">${label}</text>`);
    const path = values.map((v, i) => `${i ? 'L' : 'M'}${x(t[i]).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
  };
  panel(PAD.top + 10, 'server RSS', '#5794f2', samples.map((s) => s.rssBytes / 2 ** 20), ' MB');
  panel(PAD.top + 10 + PANEL + PAD.gap, 'live handles (sspi_handles_live): contexts (yellow), credentials (green, dashed)', '#e0b400', samples.map((s) => s.liveContexts), '');
  const credY = (v, yMax) => PAD.top + 10 + PANEL + PAD.gap + PANEL - (v / yMax) * PANEL;
  const yMaxLive = niceCeil(Math.max(1, ...samples.map((s) => s.liveContexts)));
  parts.push(`<path d="${samples.map((s, i) => `${i ? 'L' : 'M'}${x(s.t).toFixed(1)},${credY(s.liveCredentials, yMaxLive).toFixed(1)}`).join(' ')}" fill="none" stroke="#73bf69" stroke-width="2" stroke-dasharray="6,4"/>`);
  const bottom = height - PAD.bottom;
  for (let s = 0; s <= xMax; s += Math.max(1, niceCeil(xMax / 10))) {
    parts.push(`<text x="${x(s)}" y="${bottom + 18}" fill="#8e8e8e" text-anchor="middle">${Math.round(s)}s</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function niceCeil(v) {
  const step = 10 ** Math.floor(Math.log10(v));
  return Math.ceil(v / step) * step;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const options = parseArgs(process.argv.slice(2));
  process.env.WLOG_LEVEL ??= 'OFF';
  const { login } = await import('../examples/ntlm-demo/client.mjs');
  mkdirSync(options.out, { recursive: true });
  const metricsPort = await freePort();
  const server = startDemoServer({ withAgent: options.agent, metricsPort, fixLeak: !options.leak, password: DEMO_USER.password });
  const url = await server.listening.catch((err) => {
    throw new Error(`${err.message}: ${server.stderr()}`);
  });
  const started = Date.now();
  const deadline = started + options.minutes * 60_000;
  const samples = [];
  let logins = 0;
  let unexpected = 0;

  const sample = async () => {
    // Without the agent (--no-agent, the baseline to compare RSS with) there is nothing to scrape.
    const text = options.agent ? await scrape(metricsPort) : '';
    const s = {
      t: (Date.now() - started) / 1000,
      rssBytes: rssOf(server.child.pid),
      liveContexts: sumOf(text, 'sspi_handles_live', { kind: 'context' }),
      liveCredentials: sumOf(text, 'sspi_handles_live', { kind: 'credential' }),
      openedContexts: sumOf(text, 'sspi_handles_opened_total', { kind: 'context' }),
      closedContexts: sumOf(text, 'sspi_handles_closed_total', { kind: 'context' }),
      agentErrors: sumOf(text, 'sspi_agent_errors_total'),
      logins,
    };
    samples.push(s);
    return s;
  };

  await sample();
  let nextSample = Date.now() + options.interval * 1000;
  let lastPrint = 0;
  while (Date.now() < deadline) {
    const wrong = logins % 4 === 3;
    const r = await login(url, { ...DEMO_USER, password: wrong ? `${DEMO_USER.password}-wrong` : DEMO_USER.password });
    if (r.ok === wrong) unexpected++;
    logins++;
    if (Date.now() >= nextSample) {
      const s = await sample();
      nextSample += options.interval * 1000;
      if (s.t - lastPrint >= 60) {
        lastPrint = s.t;
        console.log(`${Math.round(s.t)}s: ${logins} logins, RSS ${(s.rssBytes / 2 ** 20).toFixed(1)} MB, live contexts ${s.liveContexts}, credentials ${s.liveCredentials}`);
      }
    }
  }
  await sample();
  const exit = await server.stop();

  const seconds = (Date.now() - started) / 1000;
  const rss = samples.map((s) => s.rssBytes);
  // "Warm" from the end of the first fifth of the run: growth after that is what a leak would show.
  const warm = samples.filter((s) => s.t >= seconds / 5);
  const mb = (b) => +(b / 2 ** 20).toFixed(1);
  const summary = {
    minutes: options.minutes,
    agent: options.agent,
    leak: options.leak,
    logins,
    unexpected,
    loginsPerSecond: logins / seconds,
    rssMB: { start: mb(rss[0]), warmStart: mb(warm[0]?.rssBytes ?? rss[0]), end: mb(rss.at(-1)), max: mb(Math.max(...rss)) },
    warmRssGrowthMB: mb((warm.at(-1)?.rssBytes ?? 0) - (warm[0]?.rssBytes ?? 0)),
    // Per login once warm: native memory a login leaves behind (WinPR's or the agent's).
    warmRssBytesPerLogin: Math.round(((warm.at(-1)?.rssBytes ?? 0) - (warm[0]?.rssBytes ?? 0)) / Math.max(1, (warm.at(-1)?.logins ?? 0) - (warm[0]?.logins ?? 0))),
    liveContexts: { max: Math.max(...samples.map((s) => s.liveContexts)), end: samples.at(-1).liveContexts },
    liveCredentials: { max: Math.max(...samples.map((s) => s.liveCredentials)), end: samples.at(-1).liveCredentials },
    agentErrors: samples.at(-1).agentErrors,
    serverExit: exit,
  };
  const run = { ...summary, samples };
  const jsonFile = join(options.out, 'soak.json');
  writeFileSync(jsonFile, JSON.stringify(run, null, 2) + '\n');
  const svg = renderSvg(run);
  const pngFile = join(options.out, 'soak.png');
  try {
    execFileSync('rsvg-convert', ['--format', 'png', '--output', pngFile], { input: svg });
  } catch (err) {
    writeFileSync(join(options.out, 'soak.svg'), svg);
    console.error(`rsvg-convert failed (${err.message}): apt-get install librsvg2-bin; wrote soak.svg instead`);
  }
  console.log(JSON.stringify(summary, null, 2));
  console.log(`wrote ${jsonFile} and ${pngFile}`);
  return unexpected === 0 ? 0 : 1;
}

process.exitCode = await main();
