// Small regressions for what the robustness runs found, at the unit level.
import assert from 'node:assert/strict';
import { agentError, agentErrorCounts, setMessageSink } from '../../dist/diagnostics.js';
import { bufferKey } from '../../dist/hooks/handle-shapes.js';
import { stackPolicy } from '../../dist/core/stacks.js';

const koffiLikeMemory = {
  words: () => undefined,
  address(pointer) {
    if (typeof pointer === 'bigint') return pointer;
    if (typeof pointer === 'number') return BigInt(pointer);
    if (Buffer.isBuffer(pointer)) return 4096n;
    throw new TypeError(`Unexpected ${typeof pointer} value for ptr, expected pointer`);
  },
};

describe('robustness: regressions', function () {
  let messages;
  beforeEach(() => {
    messages = [];
    setMessageSink((m) => messages.push(m));
  });
  afterEach(() => setMessageSink((m) => process.stderr.write(m)));

  it('keys no buffer from a value koffi cannot take the address of (a string, a plain object), without an agent error', function () {
    assert.equal(bufferKey('a string', koffiLikeMemory), undefined);
    assert.equal(bufferKey({ hostile: 1 }, koffiLikeMemory), undefined);
    assert.equal(bufferKey(Buffer.alloc(4), koffiLikeMemory), 4096, 'an address below 2^53 keys as a Number');
    assert.equal(bufferKey(2n ** 60n, koffiLikeMemory), 2n ** 60n, 'one above stays a BigInt');
    assert.equal(bufferKey(0n, koffiLikeMemory), null);
  });

  it('never throws while reporting an error whose stack or text throws', function () {
    const hostile = new Error('x');
    Object.defineProperty(hostile, 'stack', { get: () => { throw new Error('stack getter'); } });
    const worse = { toString: () => { throw new Error('toString'); } };
    assert.doesNotThrow(() => agentError('robustness.test.hostile', hostile));
    assert.doesNotThrow(() => agentError('robustness.test.worse', worse));
    assert.equal(agentErrorCounts().get('robustness.test.hostile'), 1);
    assert.ok(messages.some((m) => m.includes('internal error in robustness.test.hostile') && m.includes('Error: x')));
  });

  it('costs only the stack when stack capture throws, and gives the app its Error.stackTraceLimit back', function () {
    const original = Error.captureStackTrace;
    const limit = Error.stackTraceLimit;
    Error.captureStackTrace = () => {
      throw new Error('capture fault');
    };
    try {
      const policy = stackPolicy('all', 8);
      assert.equal(policy.forCreation('AcquireCredentialsHandleW', () => {}), undefined);
      assert.equal(policy.always(() => {}), undefined);
    } finally {
      Error.captureStackTrace = original;
    }
    assert.equal(Error.stackTraceLimit, limit);
    assert.ok(agentErrorCounts().get('stacks') >= 2);
  });
});
