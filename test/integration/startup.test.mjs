// How the preload starts on every supported Node.js line: silent, and ready before the app's first line.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../examples/lib/free-port.mjs';
import { runApp, explain, REPO } from '../helpers/run-app.mjs';

// Flags that turn any deprecation into a crash and show every warning, pending ones included.
const STRICT_WARNINGS = ['--throw-deprecation', '--pending-deprecation', '--trace-warnings'];

describe('the preload on this Node.js', function () {
  for (const app of ['handshakes-esm.mjs', 'handshakes-cjs.cjs']) {
    it(`writes not one byte to stderr under ${STRICT_WARNINGS.join(' ')} (${app}, endpoint on)`, async function () {
      const port = await freePort();
      const run = await runApp(app, { args: ['20'], nodeArgs: STRICT_WARNINGS, env: { SSPI_AGENT_METRICS_PORT: String(port) } });
      assert.equal(run.code, 0, explain(run));
      assert.equal(run.results[0].succeeded, 20, explain(run));
      assert.equal(run.stderr, '');
    });
  }

  it('instruments `import { load } from "koffi"` with no warning under the same flags', async function () {
    const run = await runApp('esm-named-import.mjs', { nodeArgs: STRICT_WARNINGS, env: { SSPI_AGENT_REPORT: '0' } });
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.report.total, 1, 'the credential acquired through the named import is tracked');
    assert.equal(run.stderr, '');
  });

  for (const app of ['startup/first-line.mjs', 'startup/first-line.cjs']) {
    it(`has the metrics port bound before the app's first line runs (${app})`, async function () {
      const port = await freePort();
      const run = await runApp(app, { env: { SSPI_AGENT_METRICS_PORT: String(port) } });
      assert.equal(run.code, 0, explain(run));
      assert.deepEqual(run.results, [{ bound: true }], explain(run));
      assert.equal(run.stderr, '');
    });
  }
});

describe('supported Node.js releases', function () {
  it('are the ones package.json declares in engines', async function () {
    const { SUPPORTED_NODE, nodeSupported } = await import('../../dist/node-support.js');
    const { engines } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    assert.equal(engines.node, SUPPORTED_NODE);
    const verdicts = ['20.20.2', '22.22.2', '22.22.3', '22.23.5', '23.11.0', '24.11.0', '24.11.1', '24.22.3', '25.0.0', '26.12.1', '27.0.0'].map(
      (v) => [v, nodeSupported(v)],
    );
    assert.deepEqual(verdicts, [
      ['20.20.2', false],
      ['22.22.2', false],
      ['22.22.3', true],
      ['22.23.5', true],
      ['23.11.0', false],
      ['24.11.0', false],
      ['24.11.1', true],
      ['24.22.3', true],
      ['25.0.0', true],
      ['26.12.1', true],
      ['27.0.0', true],
    ]);
    assert.ok(nodeSupported(process.versions.node), `the tests run on a supported Node.js (${process.versions.node})`);
  });
});
