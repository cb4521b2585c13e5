// `sspi-agent report`: the JSON reports of several processes merged by site; `sspi-agent baseline`: a
// suppressions file with which fail-on-leak fails only on new sites; and what both say of bad input
// (the file named, nothing on standard output, exit code 2).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explain, REPO, runApp } from '../helpers/run-app.mjs';

const BIN = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).bin['sspi-agent'];

function cli(...args) {
  const r = spawnSync(process.execPath, [join(REPO, BIN), ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sspi-agent report (the CLI)', function () {
  let dir;
  let files;
  let reports;
  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'sspi-cli-'));
    // Two processes of the same leaky app: every site leaks in both.
    const runs = [await runApp('leaky-app.mjs'), await runApp('leaky-app.mjs')];
    reports = runs.map((run) => {
      assert.ok(run.report, explain(run));
      return run.report;
    });
    files = reports.map((report, i) => {
      const file = join(dir, `report-${i}.json`);
      writeFileSync(file, JSON.stringify(report));
      return file;
    });
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is the package.json bin, and each report carries its format version', function () {
    assert.match(readFileSync(join(REPO, BIN), 'utf8'), /^#!\/usr\/bin\/env node\n/);
    for (const report of reports) assert.equal(report.format, 1);
  });

  it('merges the reports by site, with the processes each site leaked in', function () {
    const { code, stdout, stderr } = cli('report', ...files);
    assert.equal(code, 0, stderr);
    const sites = reports[0].groups.length;
    assert.ok(sites >= 3, 'the leaky app leaks at several sites');
    assert.match(stdout, new RegExp(`^sspi-agent: 10 SSPI handles leaked in 2 reports \\(4 credentials, 6 contexts\\), ${sites} allocation sites\\n`));
    const [pidA, pidB] = reports.map((r) => r.pid);
    assert.equal(stdout.split(`in 2 of 2 processes (pids ${pidA}, ${pidB})`).length - 1, sites, 'every site in both processes');
    assert.match(stdout, /at forgetClientContext \(.*leaky-app\.mjs:\d+:\d+\)/);
    assert.match(stdout, new RegExp(`SUMMARY: sspi-agent: 10 leaked SSPI handles in ${sites} sites across 2 processes\\.\\n$`));
  });

  it('writes the merged report as JSON with --json', function () {
    const { code, stdout } = cli('report', '--json', ...files);
    assert.equal(code, 0);
    const merged = JSON.parse(stdout);
    assert.equal(merged.format, 1);
    assert.deepEqual(merged.sources.map((s) => s.path), files);
    assert.equal(merged.total, 10);
    assert.deepEqual(merged.byKind, { credential: 4, context: 6, buffer: 0 });
    // Each site leaks one handle per process: merged, two handles in two processes.
    assert.equal(merged.groups.length, reports[0].groups.length);
    assert.deepEqual(new Set(merged.groups.map((g) => `${g.count} in ${g.processes}`)), new Set(['2 in 2']));
    assert.deepEqual(merged.groups.filter((g) => g.createdBy === 'InitializeSecurityContextW').length, 2, 'the two client contexts are two sites');
  });

  it('baseline: with its suppressions, fail-on-leak passes the same app and fails once a new site leaks', async function () {
    const { code, stdout, stderr } = cli('baseline', ...files);
    assert.equal(code, 0, stderr);
    const entries = stdout.split('\n').filter((l) => l.startsWith('leak:'));
    assert.equal(entries.length, reports[0].groups.length, 'one entry per site');
    assert.match(stdout, /# 2 contexts \[NTLM, inbound\] created by AcceptSecurityContext, in 2 of 2 processes\nleak:\*/);
    assert.doesNotMatch(stdout, new RegExp(REPO.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no path of this checkout');
    const supp = join(dir, 'sspi-agent.supp');
    writeFileSync(supp, stdout);
    const failOnLeak = { SSPI_AGENT_FAIL_ON_LEAK: '1' };

    const without = await runApp('leaky-app.mjs', { env: failOnLeak });
    assert.equal(without.code, 1, 'the leaks fail the app without the baseline');
    const same = await runApp('leaky-app.mjs', { env: { ...failOnLeak, SSPI_AGENT_SUPPRESSIONS: supp } });
    assert.equal(same.code, 0, explain(same));
    assert.deepEqual([same.report.suppressed, same.report.unsuppressed], [5, 0]);
    const newSite = await runApp('leaky-app-new-site.mjs', { env: { ...failOnLeak, SSPI_AGENT_SUPPRESSIONS: supp } });
    assert.equal(newSite.code, 1, explain(newSite));
    assert.deepEqual([newSite.report.suppressed, newSite.report.unsuppressed], [5, 1]);
    assert.match(newSite.report.groups.find((g) => !g.suppressedBy).stack.join('\n'), /leaky-app-new-site\.mjs:6:/);
  });

  it('baseline refuses bad input like report', function () {
    const r = cli('baseline', join(dir, 'missing.json'));
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /missing\.json: cannot be read/);
  });

  describe('bad input: the file and what is wrong, exit code 2, nothing on standard output', function () {
    const bad = (name, text) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const fails = (args, message) => {
      const r = cli('report', ...args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
    };

    it('a missing file', function () {
      fails([files[0], join(dir, 'missing.json')], /missing\.json: cannot be read \(no such file\)/);
    });

    it('a file that is not JSON', function () {
      fails([bad('text.json', 'hello'), files[0]], /text\.json: not JSON/);
    });

    it('JSON that is not a report', function () {
      fails([bad('other.json', '{"name":"x"}')], /other\.json: not an sspi-agent report/);
      fails([bad('array.json', '[]')], /array\.json: not a JSON object/);
    });

    it('a report of a newer format', function () {
      fails([files[0], bad('newer.json', JSON.stringify({ ...reports[0], format: 2 }))], /newer\.json: a report of format 2, newer than this sspi-agent reads \(1\)/);
    });

    it('no file, an unknown option or command', function () {
      fails([], /no report file given/);
      fails(['--yaml', files[0]], /unknown option --yaml/);
      const r = cli('merge', files[0]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /unknown command "merge"/);
    });
  });
});
