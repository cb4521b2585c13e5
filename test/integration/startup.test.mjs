// How the preload starts on every supported Node.js line: silent, and ready before the app's first line.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../examples/lib/free-port.mjs';
import { runApp, explain, REPO } from '../helpers/run-app.mjs';
import { metricValue, parseMetrics } from '../helpers/prom-text.mjs';
import { CATALOG } from '../../dist/metrics/catalog.js';
import { prometheusViews } from '../../dist/metrics/model.js';

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

describe('what the preload loads, and when', function () {
  const RECORDER = join(REPO, 'test', 'fixtures', 'startup', 'record-loads.mjs');
  /** `lazy-loads.mjs` under the agent, with every module load recorded from before the agent's. */
  const recorded = (read, env = {}) =>
    runApp('startup/lazy-loads.mjs', { agent: false, nodeArgs: ['--import', RECORDER, '--import', 'sspi-agent'], args: [read], env });
  const phases = (run) => Object.fromEntries(run.results.filter((r) => r.phase).map((r) => [r.phase, r]));
  const packageModules = (run) => run.results.find((r) => r.packageModules).packageModules;

  for (const value of ['0', ' OFF ', 'false', 'No']) {
    it(`loads the preload entry and nothing else of the package with SSPI_AGENT_ENABLED=${JSON.stringify(value)}`, async function () {
      const run = await recorded('none', { SSPI_AGENT_ENABLED: value });
      assert.equal(run.code, 0, explain(run));
      assert.deepEqual(packageModules(run), ['dist/bundle/index.js'], explain(run));
      assert.equal(run.stderr, '');
    });
  }

  it('starts the agent for any other value, which its settings table warns about', async function () {
    const run = await recorded('none', { SSPI_AGENT_ENABLED: 'perhaps' });
    assert.equal(run.code, 0, explain(run));
    assert.ok(packageModules(run).length > 1, explain(run));
    assert.match(run.stderr, /SSPI_AGENT_ENABLED="perhaps" is not valid/);
  });

  for (const read of ['scrape', 'registry']) {
    it(`loads neither prom-client nor @opentelemetry/api until the first read (${read}), which counts every call made before it`, async function () {
      const port = await freePort();
      const run = await recorded(read, { SSPI_AGENT_METRICS_PORT: String(port) });
      assert.equal(run.code, 0, explain(run));
      const seen = phases(run);
      for (const phase of ['start', 'calls']) {
        assert.deepEqual([seen[phase].promClient, seen[phase].otelApi], [false, false], `${phase}: ${explain(run)}`);
      }
      // (Importing the API loads @opentelemetry/api: SspiInstrumentation's base class is OpenTelemetry's.)
      if (read === 'registry') assert.equal(seen['api imported'].promClient, false, 'importing the API loads no prom-client');
      assert.equal(seen.read.promClient, true, 'the read loaded prom-client');
      const samples = parseMetrics(seen.read.text);
      const credential = { kind: 'credential', package: 'NTLM' };
      assert.equal(metricValue(samples, 'sspi_handles_opened_total', credential), 8, seen.read.text);
      assert.equal(metricValue(samples, 'sspi_handles_closed_total', credential), 7);
      assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'AcquireCredentialsHandleW', status: 'SEC_E_OK' }), 8);
      assert.equal(metricValue(samples, 'sspi_handles_live', { ...credential, direction: 'outbound' }), 1);
    });
  }
});

describe('the parts the agent loads on demand', function () {
  const RECORDER = join(REPO, 'test', 'fixtures', 'startup', 'record-loads.mjs');
  /**
   * `parts-loaded.mjs` under the agent: the agent's source modules loaded at each phase. One run per
   * action and settings, shared by the tests that read it (most read the plain 'none' run).
   */
  const runs = new Map();
  function loads(action, env = {}) {
    const key = JSON.stringify([action, env]);
    if (!runs.has(key)) runs.set(key, loadsOnce(action, env));
    return runs.get(key);
  }
  async function loadsOnce(action, env) {
    const port = await freePort();
    const run = await runApp('startup/parts-loaded.mjs', {
      agent: false,
      nodeArgs: ['--import', RECORDER, '--import', 'sspi-agent'],
      args: [action],
      // No report file asked for: then only a handle live at the end is something to report.
      env: { SSPI_AGENT_METRICS_PORT: String(port), SSPI_AGENT_REPORT_FILE: '', ...env },
    });
    assert.equal(run.code, 0, explain(run));
    return { run, phases: Object.fromEntries(run.results.filter((r) => r.phase).map((r) => [r.phase, r])) };
  }
  const PARTS = {
    otel: ['telemetry.ts', 'exporters/otel-traces.ts', 'exporters/otel-metrics.ts', 'otel/api.ts', 'otel/bootstrap.ts'],
    worker: ['workers/worker-hub.ts', 'workers/worker-scrapes.ts'],
    leak: ['exit-report.ts', 'exporters/leak-report.ts', 'closing-report.ts'],
  };
  const ALL = Object.values(PARTS).flat().concat('hooks/node-expose-sspi-hook.ts', 'workers/worker-link.ts');
  const among = (modules, wanted) => wanted.filter((m) => modules.includes(m));

  it('starts, makes SSPI calls and ends with none of them loaded, nor node:http', async function () {
    const { run, phases } = await loads('none');
    assert.ok(phases.start.modules.includes('core/registry.ts'), explain(run));
    assert.ok(phases.start.modules.includes('hooks/koffi-hook.ts'), explain(run));
    for (const phase of ['start', 'calls', 'exit']) {
      assert.deepEqual(among(phases[phase].modules, ALL), [], `${phase}: ${explain(run)}`);
      assert.equal(phases[phase].http, false, `${phase}: ${explain(run)}`);
    }
  });

  for (const [action, what] of [
    ['otel', 'registers an OpenTelemetry SDK and calls again'],
    ['worker', 'starts a worker thread'],
  ]) {
    it(`loads its part once the app ${what}`, async function () {
      const { run, phases } = await loads(action);
      assert.deepEqual(among(phases.calls.modules, ALL), [], explain(run));
      assert.deepEqual(among(phases.after.modules, ALL), PARTS[action], explain(run));
    });
  }

  // The exporter, the catalog and its listener, the series: what the Prometheus side compiles.
  const PROMETHEUS = ['exporters/prometheus.ts', 'exporters/series.ts', 'metrics/catalog-listener.ts', 'metrics/catalog.ts', 'metrics/label-sets.ts', 'metrics/model.ts'];

  it('loads the Prometheus side at the first registry event, not at start', async function () {
    const { run, phases } = await loads('none');
    for (const phase of ['start', 'declared']) assert.deepEqual(among(phases[phase].modules, PROMETHEUS), [], `${phase}: ${explain(run)}`);
    assert.deepEqual(among(phases.calls.modules, PROMETHEUS), PROMETHEUS, explain(run));
  });

  it('loads it at a scrape before any call, which shows every series the catalog lists at 0 from the start', async function () {
    const { run, phases } = await loads('scrape-first');
    assert.deepEqual(among(phases.declared.modules, PROMETHEUS), [], explain(run));
    assert.deepEqual(among(phases.scraped.modules, PROMETHEUS), PROMETHEUS, explain(run));
    const samples = parseMetrics(phases.scraped.text);
    let checked = 0;
    for (const view of prometheusViews(CATALOG)) {
      for (const values of view.def.zeroes?.atStart ?? []) {
        const name = view.def.type === 'histogram' ? `${view.name}_count` : view.name;
        const labels = Object.fromEntries(view.labels.map((l, i) => [l.name, values[i]]));
        const sample = samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels));
        assert.equal(sample?.value, 0, `${name}${JSON.stringify(labels)}: ${phases.scraped.text}`);
        checked++;
      }
    }
    assert.ok(checked > 20, `${checked} series checked`);
  });

  it('loads it at a read that comes while calls still wait to be applied, and counts them', async function () {
    const { run, phases } = await loads('read-at-once');
    // (The API's instrumentation reads the catalog: importing it loads that much.)
    assert.deepEqual(among(phases['calls waiting'].modules, PROMETHEUS), among(phases.declared.modules, PROMETHEUS), explain(run));
    assert.ok(!phases['calls waiting'].modules.includes('exporters/prometheus.ts'), explain(run));
    assert.ok(phases.read.modules.includes('exporters/prometheus.ts'), explain(run));
    const samples = parseMetrics(phases.read.text);
    const credential = { kind: 'credential', package: 'NTLM' };
    assert.equal(metricValue(samples, 'sspi_handles_opened_total', credential), 1, phases.read.text);
    assert.equal(metricValue(samples, 'sspi_handles_closed_total', credential), 1, phases.read.text);
    assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'AcquireCredentialsHandleW', status: 'SEC_E_OK' }), 1, phases.read.text);
    assert.equal(metricValue(samples, 'sspi_calls_total', { function: 'FreeCredentialsHandle', status: 'SEC_E_OK' }), 1, phases.read.text);
  });

  // What a call does around the native call, and the lifecycle rules it hands the call to.
  const CALLS = ['core/call-details.ts', 'core/lifecycle.ts', 'core/negotiation.ts', 'hooks/call-observer.ts', 'hooks/handle-shapes.ts', 'hooks/token-reader.ts'];

  it('loads the per-call part at the first call of a declared function, not when the functions are declared', async function () {
    const { run, phases } = await loads('none');
    assert.ok(phases.declared.modules.includes('hooks/sspi-function-wrapper.ts'), explain(run));
    for (const phase of ['start', 'declared']) assert.deepEqual(among(phases[phase].modules, CALLS), [], `${phase}: ${explain(run)}`);
    assert.deepEqual(among(phases.calls.modules, CALLS), CALLS, explain(run));
  });

  it('loads node:net only to serve the endpoint: not with SSPI_AGENT_METRICS_PORT=0', async function () {
    // At the app's first line: importing koffi loads it soon after when stderr is a pipe, agent or not.
    const { run, phases } = await loads('none', { SSPI_AGENT_METRICS_PORT: '0' });
    assert.equal(phases.start.net, false, explain(run));
    const served = await loads('none');
    assert.equal(served.phases.start.net, true, explain(served.run));
  });

  it('loads neither node:perf_hooks nor node:timers/promises at start; the clock takes node:perf_hooks at the first call', async function () {
    const { run, phases } = await loads('none');
    for (const phase of ['start', 'declared']) assert.deepEqual(phases[phase].builtins, [], `${phase}: ${explain(run)}`);
    assert.deepEqual(phases.calls.builtins, ['NativeModule perf_hooks'], explain(run));
  });

  it('loads node:http at the first scrape', async function () {
    const { run, phases } = await loads('scrape');
    assert.equal(phases.calls.http, false, explain(run));
    assert.equal(phases.after.http, true, explain(run));
  });

  it('loads the exit report at the end of a process that leaves a handle live, and writes it', async function () {
    const { run, phases } = await loads('leak');
    assert.deepEqual(among(phases.after.modules, ALL), [], explain(run));
    assert.deepEqual(among(phases.exit.modules, ALL), PARTS.leak, explain(run));
    assert.match(run.stderr, /1 SSPI handle still live at exit/, explain(run));
  });
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
