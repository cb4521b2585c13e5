// The README documents the settings and metrics the code defines, generated from the code itself.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
