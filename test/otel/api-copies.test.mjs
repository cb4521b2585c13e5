// Which copy of `@opentelemetry/api` the agent gets, and what it says when that copy cannot serve:
// none installed where the agent can load it (an optional peer dependency), the 2.x line's 1.9 (the
// agent's own SDK and SspiInstrumentation are 3.x), or a copy of the agent's own beside an app's
// older one. In each case the app runs, the Prometheus side counts, and at most one line is said —
// only when OpenTelemetry is in use or asked for.
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { APP_2X, INSTALLED_AGENT, installCurrentBuild } from '../helpers/otel-2x-app.mjs';
import { explain, FIXTURES, REPO, runApp } from '../helpers/run-app.mjs';

const QUIET = { SSPI_AGENT_REPORT: '0' };
const ASKED = { ...QUIET, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_METRICS_EXPORTER: 'none' };

/** The agent's own lines on stderr. */
const agentLines = (run) => run.stderr.split('\n').filter((l) => l.startsWith('sspi-agent:'));

/** The app ran to its end and the agent counted its calls. */
function ranAndCounted(run) {
  assert.equal(run.code, 0, explain(run));
  const [out] = run.results;
  assert.ok(out?.calls > 0, explain(run));
  return out;
}

describe('Without @opentelemetry/api where the agent can load it', function () {
  const HIDE = ['--import', join(FIXTURES, 'otel/hide-otel-api.mjs'), '--import', 'sspi-agent'];
  const run = (env, args = []) => runApp('otel/without-api.mjs', { agent: false, nodeArgs: HIDE, env, args });

  it('runs with Prometheus only and says nothing', async function () {
    const r = await run(QUIET);
    assert.equal(ranAndCounted(r).apiFound, false, 'the API is hidden from the app too');
    assert.deepEqual(agentLines(r), []);
  });

  it('says once that it sends nothing to OpenTelemetry when OTEL_* variables ask for export', async function () {
    const r = await run(ASKED);
    ranAndCounted(r);
    assert.equal(agentLines(r).length, 1, r.stderr);
    assert.match(agentLines(r)[0], /OTEL_\* variables ask for OpenTelemetry export, but @opentelemetry\/api cannot be loaded/);
  });

  it('lets an SspiInstrumentation be constructed and enabled, which does nothing and says once why', async function () {
    const r = await run(QUIET, ['instrumentation']);
    ranAndCounted(r);
    assert.equal(agentLines(r).length, 1, r.stderr);
    assert.match(agentLines(r)[0], /SspiInstrumentation does nothing here: @opentelemetry\/api cannot be loaded/);
  });

  it('when the app registered OpenTelemetry through a copy it cannot load: says so once, and counts no error per call', async function () {
    const r = await run(QUIET, ['registered']);
    const out = ranAndCounted(r);
    assert.equal(out.agentErrors, 0, r.stderr);
    assert.equal(agentLines(r).length, 1, r.stderr);
    assert.match(agentLines(r)[0], /cannot be loaded from sspi-agent/);
  });
});

describe('An app on OpenTelemetry JS 2.x (api 1.9.1) without an SDK of its own', function () {
  before(installCurrentBuild);
  const run = (env, args = []) => runApp('otel-2x-app/without-sdk.mjs', { cwd: APP_2X, env, args });

  it('says nothing when OpenTelemetry is not asked for', async function () {
    const r = await run(QUIET);
    ranAndCounted(r);
    assert.deepEqual(agentLines(r), []);
  });

  it('starts no SDK of the agent’s (3.x) when OTEL_* variables ask for export, and says so once', async function () {
    const r = await run(ASKED);
    ranAndCounted(r);
    assert.equal(agentLines(r).length, 1, r.stderr);
    assert.match(agentLines(r)[0], /the agent cannot start one: it is built on OpenTelemetry JS 3\.x, which needs @opentelemetry\/api 1\.10 or newer, and the app has 1\.9\.1/);
  });

  it('makes SspiInstrumentation (3.x) one that does nothing, and says so once', async function () {
    const r = await run(QUIET, ['instrumentation']);
    ranAndCounted(r);
    assert.equal(agentLines(r).length, 1, r.stderr);
    assert.match(agentLines(r)[0], /SspiInstrumentation does nothing here: it is built on OpenTelemetry JS 3\.x/);
  });
});

describe('An agent with an @opentelemetry/api of its own, newer than the app’s (2.x)', function () {
  // As a globally installed agent, or one a package manager gave a copy of its own, would have it.
  const OWN_API = join(INSTALLED_AGENT, 'node_modules', '@opentelemetry', 'api');
  before(function () {
    installCurrentBuild();
    cpSync(join(REPO, 'node_modules', '@opentelemetry', 'api'), OWN_API, { recursive: true });
  });
  after(() => rmSync(OWN_API, { recursive: true, force: true }));

  it('says once that its spans and metrics cannot reach the app’s SDK, and the app runs', async function () {
    const r = await runApp('otel-2x-app/app.mjs', { cwd: APP_2X, env: QUIET });
    assert.equal(r.code, 0, explain(r));
    assert.deepEqual(r.results.at(-1).spans.filter((s) => s.scope === 'sspi-agent'), []);
    const otel = agentLines(r).filter((l) => /opentelemetry/i.test(l));
    assert.equal(otel.length, 1, r.stderr);
    assert.match(otel[0], /registered OpenTelemetry through @opentelemetry\/api 1\.9\.1, which the agent's own copy \(1\.10\.0\) cannot use/);
  });
});
