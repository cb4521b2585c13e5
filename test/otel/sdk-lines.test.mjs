// An app that starts its own NodeSDK, run under `node --import sspi-agent`, on each OpenTelemetry JS
// line the agent supports: 3.x (the repository's packages) and 2.x (test/fixtures/otel-2x-app, an app
// with sdk-node 0.223 and api 1.9.1 in its own node_modules and the agent installed beside it, as npm
// lays an installed app out). On both, the agent shares the app's API (a peer dependency), so its call
// and leak spans reach the app's exporter, parented and linked to the app's spans.
import assert from 'node:assert/strict';
import { APP_2X, installCurrentBuild } from '../helpers/otel-2x-app.mjs';
import { explain, REPO, runApp } from '../helpers/run-app.mjs';

const LINES = [
  { line: '3.x', app: 'otel/sdk-3x-app.mjs', cwd: REPO, sdkNode: /^0\.301\./, api: /^1\.10\./ },
  { line: '2.x', app: 'otel-2x-app/app.mjs', cwd: APP_2X, sdkNode: /^0\.223\./, api: /^1\.9\./, before: installCurrentBuild },
];

const HANDSHAKE_CALLS = [
  'AcceptSecurityContext',
  'AcceptSecurityContext',
  'AcquireCredentialsHandleW',
  'AcquireCredentialsHandleW',
  'CompleteAuthToken',
  'InitializeSecurityContextW',
  'InitializeSecurityContextW',
];

for (const { line, app, cwd, sdkNode, api, before: prepare } of LINES) {
  describe(`An app with its own NodeSDK of OpenTelemetry JS ${line}, under --import sspi-agent`, function () {
    let run;
    let out;
    const agentSpans = () => out.spans.filter((s) => s.scope === 'sspi-agent');
    const childrenOf = (request) => agentSpans().filter((s) => s.parentSpanId === out.requests[request].spanId);
    const byId = (spanId) => out.spans.find((s) => s.spanId === spanId);

    before(async function () {
      prepare?.();
      run = await runApp(app, { cwd, env: { SSPI_AGENT_REPORT: '0' } });
      assert.equal(run.code, 0, explain(run));
      out = run.results.at(-1);
      assert.ok(out?.spans, explain(run));
    });

    it('runs on that line: sdk-node and the API as the app resolves them', function () {
      assert.match(out.versions.sdkNode, sdkNode);
      assert.match(out.versions.api, api);
    });

    it("exports a span for each call of a login that does work, each a child of the app's request span", function () {
      assert.deepEqual(childrenOf('login').map((s) => s.name).sort(), HANDSHAKE_CALLS);
      for (const span of childrenOf('login')) assert.equal(span.attributes['sspi.function'], span.name);
    });

    it('exports the leak spans of the exit, linked to the call spans that made the handles in the app’s request', function () {
      const leaks = agentSpans().filter((s) => s.name === 'sspi.leak');
      assert.deepEqual(leaks.map((s) => s.attributes['sspi.handle.kind']).sort(), ['context', 'credential']);
      for (const leak of leaks) {
        const creator = byId(leak.links[0]?.spanId);
        assert.ok(creator, `${leak.attributes['sspi.handle.kind']}: linked to a span the app exported`);
        assert.equal(creator.name, leak.attributes['sspi.handle.created_by']);
        assert.equal(creator.parentSpanId, out.requests.leaky.spanId);
      }
    });

    it("exports a double free as a child of the app's request span", function () {
      const misuses = childrenOf('doubleFree').filter((s) => s.name === 'sspi.misuse');
      assert.deepEqual(misuses.map((s) => s.attributes['sspi.misuse.reason']), ['double']);
    });

    it('says nothing about OpenTelemetry', function () {
      assert.doesNotMatch(run.stderr, /opentelemetry|internal error/i);
    });
  });
}
