// The NTLM demo server (examples/ntlm-demo) under `node --import sspi-agent`, as the live tests run
// it, and a loop of logins to several of them from this process (WinPR's client side, no agent).
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO } from './support.mjs';

export const DEMO_USER = { user: 'alice', domain: 'DEMO', password: 'Secret-Pa55' };

/**
 * Starts a demo server in `children` with its agent endpoint on 127.0.0.1:`metricsPort`; resolves
 * with { url, instance, stop } once it listens. `fixLeak` switches off its rejected-login leak;
 * `maxAgeContext` is the agent's SSPI_AGENT_MAX_AGE_CONTEXT.
 */
export async function startDemo(children, { fixLeak, metricsPort, maxAgeContext }) {
  const env = {
    ...process.env,
    WLOG_LEVEL: 'OFF',
    SSPI_AGENT_METRICS_HOST: '127.0.0.1',
    SSPI_AGENT_METRICS_PORT: String(metricsPort),
    SSPI_AGENT_MAX_AGE_CONTEXT: maxAgeContext,
    SSPI_AGENT_REPORT: '0',
    DEMO_PORT: '0',
    DEMO_FIX_LEAK: fixLeak ? '1' : '',
  };
  const child = children.start(process.execPath, ['--import', 'sspi-agent', join('examples', 'ntlm-demo', 'server.mjs')], { env });
  const match = await child.waitForOutput(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/m, 15_000);
  return { url: match[1], instance: `127.0.0.1:${metricsPort}`, pid: child.pid, stop: () => child.stop() };
}

/**
 * Logs in to every server `urls()` lists, all at once, in rounds `pauseMs` apart, every 4th round
 * with a wrong password, until stopped: each server gets the same logins. A login must succeed
 * exactly when its password is right; a server `urls()` no longer lists (one being restarted) may
 * fail its login in flight.
 */
export function loginLoop(urls, { pauseMs }) {
  let stopped = false;
  let count = 0;
  let failure;
  const done = (async () => {
    process.env.WLOG_LEVEL = 'OFF'; // WinPR reads it when the client loads it
    const { login } = await import(join(REPO, 'examples', 'ntlm-demo', 'client.mjs'));
    for (let i = 1; !stopped; i++) {
      const wrong = i % 4 === 0;
      const password = wrong ? `${DEMO_USER.password}-wrong` : DEMO_USER.password;
      await Promise.all(
        urls().map(async (url) => {
          let result;
          try {
            result = await login(url, { ...DEMO_USER, password });
          } catch (err) {
            if (urls().includes(url)) throw new Error(`login ${i} to ${url}: ${err.message}`);
            return;
          }
          if (result.ok === wrong) throw new Error(`login ${i} to ${url}: ${JSON.stringify(result)}`);
          count++;
        }),
      );
      await sleep(pauseMs);
    }
  })().catch((err) => (failure = err));
  return {
    /** Logins so far; throws the loop's failure, if any. */
    count: () => {
      if (failure) throw failure;
      return count;
    },
    async stop() {
      stopped = true;
      await done;
    },
  };
}
