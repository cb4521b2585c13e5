// Clients of the end-to-end benchmark, in a process of their own (no agent): `concurrency` closed-loop
// NTLM logins over HTTP (each one keep-alive connection: GET → NEGOTIATE → AUTHENTICATE), against
// two servers in alternating blocks A B B A A B B A (ABBA), so drift in the machine's load hits both
// alike. argv[2]: JSON { urls: { raw, agent }, concurrency, blockMs, pairs, warmupMs }; argv[3]: the
// JSON result file, each block's logins per second and login latencies (ms), the logins each side
// served in all, and the counted blocks' window (µs, CLOCK_MONOTONIC). Both URLs may be one
// server's: `--profile` drives a single server so.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { login } from '../../examples/ntlm-demo/client.mjs';

const { urls, concurrency, blockMs, pairs, warmupMs } = JSON.parse(process.argv[2]);
const USER = { user: 'alice', domain: 'DEMO', password: process.env.DEMO_PASSWORD ?? 'Secret-Pa55' };

/** `concurrency` loops logging in to `url` until `ms` have passed; the latencies of logins done within. */
async function block(url, ms) {
  const end = performance.now() + ms;
  const latencies = [];
  let failed = 0;
  const loop = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const r = await login(url, USER);
      if (!r.ok) failed++;
      else latencies.push(performance.now() - t);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  return { logins: latencies.length, seconds, perSecond: latencies.length / seconds, failed, latencies };
}

const answered = (done) => done.logins + done.failed;
// Every login each server answered (rejected ones too), warm-up included: what its CPU time is divided by.
const served = { raw: 0, agent: 0 };
// Warm-up in the same alternating blocks: both servers (and this process) get there by the same path,
// and the JIT's and the allocator's climb, which lasts seconds, ends before the counted pairs start.
for (let ms = 0; ms < warmupMs; ms += blockMs) {
  served.raw += answered(await block(urls.raw, blockMs));
  served.agent += answered(await block(urls.agent, blockMs));
}
// The counted blocks' span in CLOCK_MONOTONIC µs, the clock a server's --cpu-prof samples carry.
const windowStart = Number(process.hrtime.bigint() / 1000n);
const blocks = [];
for (let i = 0; i < pairs; i++) {
  // ABBA: which side goes first alternates.
  const order = i % 2 === 0 ? ['raw', 'agent'] : ['agent', 'raw'];
  for (const side of order) {
    const done = await block(urls[side], blockMs);
    served[side] += answered(done);
    blocks.push({ side, pair: i, ...done });
  }
}
const window = [windowStart, Number(process.hrtime.bigint() / 1000n)];
writeFileSync(process.argv[3], JSON.stringify({ concurrency, blockMs, pairs, window, served, blocks }));
