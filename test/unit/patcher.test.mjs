// The patcher every hook uses: suspend() leaves the app's objects exactly as they were, resume()
// puts the same wrappers back, and patches made while suspended wait for resume().
import assert from 'node:assert/strict';
import { Patcher } from '../../dist/hooks/patcher.js';

const own = () => function own() {};
const wrapper = () => function wrapper() {};

describe('patcher', function () {
  it('suspend() restores each property as it was (a non-enumerable one stays so), resume() applies the same wrappers', function () {
    const original = own();
    const target = { load: original };
    Object.defineProperty(target, 'hidden', { value: original, writable: false, enumerable: false, configurable: true });
    const patcher = new Patcher('test');
    const load = wrapper();
    const hidden = wrapper();
    patcher.replace(target, 'load', load, false);
    patcher.replace(target, 'hidden', hidden, true);
    assert.equal(target.load, load);
    assert.deepEqual(Object.keys(target), ['load'], 'enumerability as it was');

    patcher.suspend();
    assert.equal(patcher.state.enabled, false);
    assert.equal(target.load, original);
    assert.deepEqual(Object.getOwnPropertyDescriptor(target, 'hidden'), { value: original, writable: false, enumerable: false, configurable: true });

    patcher.resume();
    assert.equal(patcher.state.enabled, true);
    assert.equal(target.load, load, 'the very wrapper, so what the app declared through it is tracked again');
    assert.equal(target.hidden, hidden);
  });

  it('removes a property it added, and a patch made while suspended waits for resume()', function () {
    const target = {};
    const patcher = new Patcher('test');
    patcher.replace(target, 'func', wrapper(), true);
    patcher.suspend();
    assert.equal(Object.hasOwn(target, 'func'), false);
    const lib = { func: own() };
    const func = wrapper();
    patcher.replace(lib, 'func', func, false);
    assert.notEqual(lib.func, func, 'not applied while suspended');
    patcher.resume();
    assert.equal(lib.func, func);
    assert.equal(Object.hasOwn(target, 'func'), true);
  });

  it('unpatchAll() puts everything back for good', function () {
    const original = own();
    const target = { load: original };
    const patcher = new Patcher('test');
    patcher.replace(target, 'load', wrapper(), false);
    patcher.unpatchAll();
    patcher.resume();
    patcher.replace(target, 'load', wrapper(), false);
    assert.equal(target.load, original);
    assert.equal(patcher.state.enabled, false);
  });
});
