// The main job, `npm run demo`, as a newcomer runs it: the agent must catch the server's leak.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO } from '../helpers/run-app.mjs';
import { MD4_TEST_VECTORS, md4 } from '../../examples/lib/nt-hash.mjs';

const run = (args) => promisify(execFile)(process.execPath, ['examples/ntlm-demo/run-demo.mjs', ...args], { cwd: REPO, env: { ...process.env, DEMO_FIX_LEAK: '' } });

describe('demo', function () {
  it('shows the leaked server contexts of rejected logins in the metrics and the exit report', async function () {
    const { stdout } = await run(['--count', '8']);
    assert.match(stdout, /logins: 6 ok, 2 rejected/);
    assert.match(stdout, /sspi_handles_live\{kind="context",package="NTLM",direction="inbound"\} 2/);
    assert.match(stdout, /sspi_calls_total\{function="CompleteAuthToken",status="SEC_E_MESSAGE_ALTERED"\} 2/);
    assert.match(stdout, /2 SSPI handles still live at exit \(0 credentials, 2 contexts\)/);
    assert.match(stdout, /at authenticateRequest \(.*examples\/ntlm-demo\/server\.mjs:\d+:\d+\)/);
  });

  it('reports nothing once the bug is fixed (--no-leak)', async function () {
    const { stdout } = await run(['--count', '8', '--no-leak']);
    assert.match(stdout, /logins: 6 ok, 2 rejected/);
    assert.match(stdout, /sspi_handles_live\{kind="context",package="NTLM",direction="inbound"\} 0/);
    assert.doesNotMatch(stdout, /still live at exit/);
  });

  it("computes the SAM file's NT hashes with a correct MD4 (RFC 1320 vectors)", function () {
    for (const { input, hex } of MD4_TEST_VECTORS) assert.equal(md4(input).toString('hex'), hex, JSON.stringify(input));
  });
});
