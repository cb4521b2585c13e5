// The README documents the settings and metrics the code defines, generated from the code itself, and
// every command it gives a newcomer is run by a test (or named here with why it cannot be). Its links
// are checked in docs-links.test.mjs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { renderReadme } from '../../scripts/readme-tables.mjs';
import { METRICS } from '../../dist/metrics/catalog.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', function () {
  it('has the configuration and metrics tables the code generates (npm run docs)', async function () {
    assert.equal(await renderReadme(readme), readme);
  });

  it('documents every metric name of the contract', function () {
    for (const name of Object.values(METRICS)) assert.ok(readme.includes(`\`${name}\``), name);
  });

  it('gives the two quick-start commands that .ci/run and the demo rely on', function () {
    assert.ok(readme.includes('./scripts/setup.sh && npm run demo'));
    assert.ok(readme.includes('./scripts/setup.sh && npm test'));
    const ci = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');
    assert.match(ci, /\.\/scripts\/setup\.sh\nnpm test/);
  });
});

/** A command: a line or code span starting with a program (after any VAR=value assignments). */
const PROGRAM = /^(?:[A-Z_]+=\S*\s+)*(?:\.\/scripts\/\S+|npm|npx|node|curl|bash|set)(?:\s|$)/;

/** The commands a Markdown page gives: fenced code lines (comments dropped) and code spans, split at `&&`. */
export function commandsOf(text) {
  const commands = new Set();
  const add = (line) => {
    for (const part of line.split(/\s+&&\s+/)) if (PROGRAM.test(part.trim())) commands.add(part.trim());
  };
  for (const [, block] of text.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)) for (const line of block.split('\n')) add(line.replace(/\s+#.*$/, '').trim());
  for (const [, span] of text.matchAll(/`([^`\n]+)`/g)) add(span.trim());
  return [...commands].sort();
}

/** Where each README command runs: [test file, text of that file that runs it]. */
const RUN_BY = {
  'node --import sspi-agent server.js': [['test/integration/package.test.mjs', "'--import', 'sspi-agent'"]],
  'node --import sspi-agent': [['test/integration/package.test.mjs', "'--import', 'sspi-agent'"]],
  'npm install sspi-agent': [['test/helpers/packed-apps.mjs', "npm(['install'"]],
  "curl -s 127.0.0.1:9469/metrics | grep '^sspi_'": [['test/integration/package.test.mjs', 'curl -s 127']],
  'npx sspi-agent report a.json b.json': [
    ['test/integration/package.test.mjs', 'npx sspi-agent report a'],
    ['test/integration/cli.test.mjs', "cli('report', '--json'"],
  ],
  'npx sspi-agent baseline a.json b.json > sspi-agent.supp': [
    ['test/integration/package.test.mjs', 'npx sspi-agent baseline a'],
    ['test/integration/cli.test.mjs', 'SSPI_AGENT_SUPPRESSIONS: supp'],
  ],
  'npx sspi-agent baseline report.json… > sspi-agent.supp': [['test/integration/cli.test.mjs', 'SSPI_AGENT_SUPPRESSIONS: supp']],
  'npm run demo': [['test/integration/demo.test.mjs', "'run', '--ignore-scripts', 'demo'"]],
  'npm run demo -- --no-leak': [['test/integration/demo.test.mjs', "npmRunDemo(['--no-leak'"]],
  'node examples/ntlm-demo/run-demo.mjs': [['test/integration/demo.test.mjs', "'examples/ntlm-demo/run-demo.mjs'"]],
  'npm run bench': [['test/bench/bench-smoke.test.mjs', "'bench/run.mjs', '--smoke'"]],
  'npm run dashboards': [['test/dashboards/dashboard.test.mjs', 'dashboardJson()']],
  'npm run docs': [['test/unit/readme.test.mjs', 'renderReadme(readme)']],
  'node --test --import sspi-agent/node-test': [['test/helpers/run-suite.mjs', "'--test', '--test-reporter=./json-lines-reporter.mjs', '--import', 'sspi-agent/node-test'"]],
  'npx sspi-agent baseline leaks-*.json > sspi-agent.supp': [['test/integration/test-plugins.test.mjs', "[CLI, 'baseline', report]"]],
};

/** The README commands no test runs, and why. */
const EXEMPT = {
  './scripts/setup.sh': 'installs system packages as root and fetches the Node.js builds: .ci/run runs it on a clean machine before the suite (checked above)',
  'npm ci': 'scripts/setup.sh runs it, before the suite',
  'npm test': 'the suite itself, on each Node.js build: .ci/run runs it (checked above)',
  'npm run test:here': 'the suite itself, on one Node.js (mocha): what npm test runs per build',
  'PATH=/path/to/node/bin:$PATH npm run test:here': 'the suite itself, on a Node.js of the reader’s (a placeholder path)',
  'npm run test:windows': '.ci/run runs it after the Linux suites: it installs Wine and runs the Windows lane, minutes long',
  'npm run build': 'npm test runs it first (pretest); the whole suite runs on what it builds',
  'npm run test:once': 'the fleet test alone: npm test runs the same files (.mocharc.once.json) after the Node.js lines',
  'set DEMO_USER=jane': 'Windows cmd syntax; the demo test sets DEMO_USER, DEMO_DOMAIN and DEMO_PASSWORD on Linux',
  'set DEMO_DOMAIN=%COMPUTERNAME%': 'Windows cmd syntax; the demo test sets DEMO_USER, DEMO_DOMAIN and DEMO_PASSWORD on Linux',
  'set DEMO_PASSWORD=…': 'Windows cmd syntax; the demo test sets DEMO_USER, DEMO_DOMAIN and DEMO_PASSWORD on Linux',
};

describe('README commands', function () {
  const ROOT = new URL('../../', import.meta.url);

  it('each command the README gives is run by a test, or exempt with a reason', function () {
    assert.deepEqual(commandsOf(readme), Object.keys({ ...RUN_BY, ...EXEMPT }).sort());
  });

  it('each test named still runs its command', function () {
    for (const [command, tests] of Object.entries(RUN_BY)) {
      for (const [file, runs] of tests) {
        assert.ok(existsSync(new URL(file, ROOT)), `${command}: ${file} is gone`);
        assert.ok(readFileSync(new URL(file, ROOT), 'utf8').includes(runs), `${command}: ${file} no longer holds ${runs}`);
      }
    }
  });

  it('each npm script the README names is in package.json', function () {
    const { scripts } = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8'));
    const named = commandsOf(readme).flatMap((c) => [...c.matchAll(/npm (?:run ([\w:-]+)|(test))/g)].map((m) => m[1] ?? m[2]));
    assert.ok(named.length >= 8, named.join(', '));
    assert.deepEqual(named.filter((n) => !scripts[n]), []);
  });

  it('finds a new command in a code block or a code span (the check itself can fail)', function () {
    const text = '# x\n\n```\nnpm run new-thing   # a comment\n./scripts/a.sh && npx b c\n```\n\nRun `FOO=1 node d.js`, not `SSPI_AGENT_X=1` nor `koffi`.\n';
    assert.deepEqual(commandsOf(text), ['./scripts/a.sh', 'FOO=1 node d.js', 'npm run new-thing', 'npx b c']);
  });
});
