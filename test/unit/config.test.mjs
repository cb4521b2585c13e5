import assert from 'node:assert/strict';
import { SETTINGS } from '../../dist/config.js';
import { readConfig } from '../../dist/config-reader.js';

function read(env) {
  const messages = [];
  const config = readConfig(env, (m) => messages.push(m));
  return { config, messages };
}

describe('configuration', function () {
  it('uses the documented defaults when nothing is set', function () {
    const { config, messages } = read({});
    assert.deepEqual(messages, []);
    for (const [key, setting] of Object.entries(SETTINGS)) assert.deepEqual(config[key], setting.default, key);
    assert.equal(config.metricsPort, 9469);
    assert.equal(config.metricsHost, '127.0.0.1');
  });

  it('reads each type of value', function () {
    const { config, messages } = read({
      SSPI_AGENT_METRICS_PORT: '0',
      SSPI_AGENT_STACKS: 'off',
      SSPI_AGENT_LIBRARIES: 'libfoo.so, bar*.dll',
      SSPI_AGENT_DEBUG: 'true',
      SSPI_AGENT_REPORT_FILE: '/tmp/r.json',
    });
    assert.deepEqual(messages, []);
    assert.equal(config.metricsPort, 0);
    assert.equal(config.stacks, 'off');
    assert.deepEqual(config.libraries, ['libfoo.so', 'bar*.dll']);
    assert.equal(config.debug, true);
    assert.equal(config.reportFile, '/tmp/r.json');
  });

  it('accepts 1 and 0 for SSPI_AGENT_STACKS', function () {
    assert.equal(read({ SSPI_AGENT_STACKS: '0' }).config.stacks, 'off');
    assert.equal(read({ SSPI_AGENT_STACKS: '1' }).config.stacks, 'all');
    assert.equal(read({ SSPI_AGENT_STACKS: 'sampled' }).config.stacks, 'sampled');
  });

  it('reads the stack budget as a percentage of one core, and warns about one out of range', function () {
    assert.equal(read({}).config.stackBudget, 0.01);
    assert.equal(read({ SSPI_AGENT_STACK_BUDGET: '2.5%' }).config.stackBudget, 0.025);
    assert.equal(read({ SSPI_AGENT_STACK_BUDGET: '5' }).config.stackBudget, 0.05);
    for (const bad of ['0', '150%', 'lots', '-1']) {
      const { config, messages } = read({ SSPI_AGENT_STACK_BUDGET: bad });
      assert.equal(config.stackBudget, 0.01, bad);
      assert.match(messages[0], /SSPI_AGENT_STACK_BUDGET=.* is not valid \(expected percent 0\.01–100 \(1%\)\); using the default 1%/, bad);
    }
  });

  it('names the variable of a bad value and falls back to the default', function () {
    const { config, messages } = read({ SSPI_AGENT_METRICS_PORT: '70000', SSPI_AGENT_STACKS: 'maybe', SSPI_AGENT_ENABLED: 'perhaps' });
    assert.equal(config.metricsPort, 9469);
    assert.equal(config.stacks, 'budget');
    assert.equal(config.enabled, true);
    assert.equal(messages.length, 3);
    assert.match(messages.find((m) => m.includes('METRICS_PORT')), /SSPI_AGENT_METRICS_PORT="70000" is not valid \(expected integer 0–65535\); using the default 9469/);
    assert.match(messages.find((m) => m.includes('STACKS')), /SSPI_AGENT_STACKS="maybe" is not valid/);
  });

  it('reports unknown SSPI_AGENT_* variables', function () {
    const { messages } = read({ SSPI_AGENT_METRIC_PORT: '1', OTHER_VAR: 'x' });
    assert.equal(messages.length, 1);
    assert.match(messages[0], /unknown variable SSPI_AGENT_METRIC_PORT/);
  });
});
