// The demo server (examples/ntlm-demo/server.mjs) as a Windows user runs it — `node.exe --import
// sspi-agent` on Wine's secur32.dll, passwords checked against the machine's (the lane's winbind)
// accounts — with a third-party NTLM client (httpntlm, from npm) logging in from Linux. Run by
// scripts/windows-lane.sh only.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import httpntlm from 'httpntlm';
import { REPO } from '../helpers/run-app.mjs';
import { freePort } from '../../examples/lib/free-port.mjs';
import { describeOnEachNode, explain, lane, startWineApp } from './support/wine.mjs';

const SERVER = join('examples', 'ntlm-demo', 'server.mjs');
const LOGIN_TIMEOUT_MS = 15_000;
const LIVE_SERVER_CONTEXTS = /^sspi_handles_live\{kind="context",package="NTLM",direction="inbound"\} (\d+)$/m;

/** The line of server.mjs where a server context is made: where the agent must place the leaks. */
function acceptLine() {
  const lines = readFileSync(join(REPO, SERVER), 'utf8').split('\n');
  const index = lines.findIndex((line) => line.includes('sspi.acceptContext('));
  assert.ok(index >= 0, `no sspi.acceptContext( call in ${SERVER}`);
  return index + 1;
}

/** One login with httpntlm: a fresh connection, NEGOTIATE, AUTHENTICATE (it closes the connection). */
async function login(url, { user, domain, password }) {
  const res = await promisify(httpntlm.get)({ url, username: user, password, domain, workstation: '', timeout: LOGIN_TIMEOUT_MS });
  return res.statusCode;
}

async function metrics(port) {
  return (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
}

/** No series yet means no server context was ever made: none live. */
function liveServerContexts(text) {
  return Number(LIVE_SERVER_CONTEXTS.exec(text)?.[1] ?? 0);
}

/** Wine's `ntlm_auth` helpers of a process: one per live NTLM context. */
function ntlmAuthChildren(pid) {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-x', 'ntlm_auth'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits with 1 when nothing matches
  }
}

async function gone(pids, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  const alive = () => pids.filter((pid) => { try { process.kill(Number(pid), 0); return true; } catch { return false; } });
  while (alive().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  return alive();
}

describeOnEachNode('Windows: the NTLM demo server with a third-party client', function () {
  let server;

  afterEach(async function () {
    await server?.kill();
    server = undefined;
  });

  /**
   * Starts the demo server, logs in `right` times with the lane user's password and `wrong` times
   * with a wrong one, reads the metrics, ends the server with Ctrl+C and returns what it saw.
   */
  async function runDemo({ right, wrong, fixLeak }) {
    const account = lane().user;
    const metricsPort = await freePort();
    server = startWineApp(join(lane().stage, SERVER), {
      env: { SSPI_AGENT_METRICS_PORT: String(metricsPort), DEMO_FIX_LEAK: fixLeak ? '1' : '0' },
    });
    const [, url] = await server.output(/^listening on (http:\/\/\S+)\r?$/m);
    const statuses = { right: [], wrong: [] };
    for (let i = 0; i < right; i++) statuses.right.push(await login(url, account));
    for (let i = 0; i < wrong; i++) statuses.wrong.push(await login(url, { ...account, password: `${account.password}-wrong` }));
    const text = await metrics(metricsPort);
    const helpers = ntlmAuthChildren(server.pid);
    const run = await server.interrupt();
    return { statuses, text, helpers, run, helpersLeft: await gone(helpers) };
  }

  it("logs the machine's user in (200), rejects a wrong password (401), and the agent counts the rejected logins' contexts as leaked, at server.mjs's line", async function () {
    const demo = await runDemo({ right: 2, wrong: 3, fixLeak: false });
    console.log(`      statuses: right ${demo.statuses.right.join(',')}, wrong ${demo.statuses.wrong.join(',')}; live contexts ${liveServerContexts(demo.text)}; ntlm_auth helpers ${demo.helpers.length}`);
    assert.deepEqual(demo.statuses, { right: [200, 200], wrong: [401, 401, 401] }, explain(demo.run));
    assert.match(demo.text, /^sspi_calls_total\{function="AcceptSecurityContext",status="SEC_E_LOGON_DENIED"\} 3$/m);
    assert.doesNotMatch(demo.text, /SEC_E_UNSUPPORTED_FUNCTION/, 'no WinPR-only call reaches secur32.dll');
    assert.equal(liveServerContexts(demo.text), 3, 'exactly the rejected logins leak');

    assert.equal(demo.run.code, 0, explain(demo.run));
    assert.equal(demo.run.report?.reason, 'exit', explain(demo.run));
    assert.equal(demo.run.report.byKind.context, 3, explain(demo.run));
    assert.equal(demo.run.report.byKind.credential, 0, explain(demo.run));
    // node.exe names ES modules by URL: file:///Z:/…/examples/ntlm-demo/server.mjs
    const site = new RegExp(`authenticateRequest \\(file:///Z:/.*/examples/ntlm-demo/server\\.mjs:${acceptLine()}:\\d+\\)`);
    const [group, ...others] = demo.run.report.groups;
    assert.equal(others.length, 0, explain(demo.run));
    assert.equal(group.count, 3);
    assert.ok(group.stack.some((frame) => site.test(frame)), group.stack.join('\n'));
    const reportLine = demo.run.stderr.split('\n').find((line) => site.test(line));
    console.log(`      exit report: ${reportLine?.trim()}`);
    assert.ok(reportLine, explain(demo.run));
    assert.match(demo.run.stderr, /3 SSPI handles still live at exit \(0 credentials, 3 contexts\)/);
    assert.deepEqual(demo.helpersLeft, [], "Wine's ntlm_auth helpers end with the server");
  });

  it('leaves no live context with DEMO_FIX_LEAK=1', async function () {
    const demo = await runDemo({ right: 1, wrong: 2, fixLeak: true });
    console.log(`      statuses: right ${demo.statuses.right.join(',')}, wrong ${demo.statuses.wrong.join(',')}; live contexts ${liveServerContexts(demo.text)}`);
    assert.deepEqual(demo.statuses, { right: [200], wrong: [401, 401] }, explain(demo.run));
    assert.equal(liveServerContexts(demo.text), 0);
    assert.match(demo.text, /^sspi_handles_opened_total\{kind="context",package="NTLM"\} 3$/m, 'every login made a context');
    assert.equal(demo.run.code, 0, explain(demo.run));
    assert.doesNotMatch(demo.run.stderr, /still live at exit/, explain(demo.run));
    assert.deepEqual(demo.helpersLeft, []);
  });
});
