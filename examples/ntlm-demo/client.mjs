// An NTLM-over-HTTP client: the SSPI client side (InitializeSecurityContext) over one keep-alive
// connection, since NTLM authenticates the connection and not the request.
//
// As a script: node client.mjs <url> [count]
// logs in `count` times (default 20) as DEMO_DOMAIN\DEMO_USER (default DEMO\alice), every 4th
// time with a wrong password, and prints `logins: N ok, M rejected`. Run it with WLOG_LEVEL=OFF to silence WinPR's log.
import http from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { loadSspi, isError } from '../lib/sspi-binding.mjs';
import { demoUser } from './users.mjs';

const sspi = loadSspi(koffi);

/**
 * One login: GET → 401 NTLM, NEGOTIATE → 401 CHALLENGE, AUTHENTICATE → 200 or 401.
 * The client context and credential are released every time, and the connection is closed so
 * the server sees the end of the conversation.
 */
export async function login(baseUrl, { user, domain, password }) {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const credential = sspi.acquireClientCredentials({ user, domain, password });
  const target = `HTTP/${url.hostname}`;
  let context = null;
  try {
    let response = await get(url, agent);
    let serverToken = null;
    while (response.status === 401 && response.ntlm) {
      const step = sspi.initializeContext(credential, context, serverToken, target);
      context = step.context;
      if (isError(step.status)) break;
      response = await get(url, agent, `NTLM ${step.token.toString('base64')}`);
      serverToken = response.ntlm?.token;
      if (!serverToken) break;
    }
    return { ok: response.status === 200, status: response.status };
  } finally {
    if (context) sspi.deleteContext(context);
    sspi.freeCredentials(credential);
    agent.destroy();
  }
}

/** `count` logins as `user`, every 4th with a wrong password; what happened to each. */
export async function runLogins(baseUrl, { count = 20, user, domain, password }) {
  const results = [];
  for (let i = 1; i <= count; i++) {
    const wrongPassword = i % 4 === 0;
    const attempt = await login(baseUrl, { user, domain, password: wrongPassword ? `${password}-wrong` : password });
    results.push({ ...attempt, wrongPassword });
  }
  return summarize(results);
}

function summarize(results) {
  const ok = results.filter((r) => r.ok).length;
  const rejected = results.filter((r) => r.status === 401).length;
  const failed = results.length - ok - rejected;
  // A right password must get in and a wrong one must not.
  const unexpected = results.filter((r) => r.ok === r.wrongPassword).length;
  const line = `logins: ${ok} ok, ${rejected} rejected${failed ? `, ${failed} failed` : ''}`;
  return { ok, rejected, failed, unexpected, line, results };
}

function get(url, agent, authorization) {
  const headers = authorization ? { Authorization: authorization } : {};
  return new Promise((resolvePromise, rejectPromise) => {
    const req = http.get(url, { agent, headers }, (res) => {
      res.resume(); // the body must be read for the connection to be reused
      res.on('end', () => resolvePromise({ status: res.statusCode, ntlm: ntlmChallenge(res.headers['www-authenticate']) }));
    });
    req.on('error', rejectPromise);
  });
}

/** `WWW-Authenticate: NTLM [token]` → { token: Buffer | null }; null when NTLM is not offered. */
function ntlmChallenge(header = '') {
  // Node joins repeated WWW-Authenticate headers with ", "; base64 has no comma.
  for (const offer of header.split(/,\s*/)) {
    const match = /^NTLM(?:\s+([A-Za-z0-9+/=]+))?\s*$/i.exec(offer);
    if (match) return { token: match[1] ? Buffer.from(match[1], 'base64') : null };
  }
  return null;
}

async function main([baseUrl, count = '20']) {
  if (!baseUrl) {
    console.error('usage: node client.mjs <url> [count]');
    return 2;
  }
  const summary = await runLogins(baseUrl, { count: Number(count), ...demoUser() });
  console.log(summary.line);
  return summary.unexpected ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
