// Starts bench/lib/scraper.mjs (a process of its own that scrapes the app's endpoint) and drives it
// over IPC: `start()` resolves once a first scrape came back, `stop()` with what it saw.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export async function startScraper(url, { connections, maxSeconds, maxScrapes }) {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'scraper.mjs');
  const child = fork(script, [url, String(connections), String(maxSeconds), String(maxScrapes)], {
    execArgv: [], // a plain node: no agent, no --expose-gc
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map();
  child.on('message', (msg) => {
    const resolve = waiting.get(msg.type);
    waiting.delete(msg.type);
    resolve?.(msg);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const reply = (type) =>
    Promise.race([
      new Promise((resolve) => waiting.set(type, resolve)),
      exited.then((code) => Promise.reject(new Error(`the scraper exited (${code}) before answering ${type}`))),
    ]);
  await reply('ready');
  return {
    start: () => (child.send({ type: 'start' }), reply('started')),
    stop: () => (child.send({ type: 'stop' }), reply('stopped')),
    end: () => (child.connected && child.disconnect(), exited),
  };
}
