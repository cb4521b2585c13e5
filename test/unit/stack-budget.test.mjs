// The CPU budget of stack capture (src/stack-budget.ts), on a clock the test drives: what it refills,
// what a capture is charged, and the share left to creations.
import assert from 'node:assert/strict';
import { StackBudget } from '../../dist/core/stack-budget.js';

describe('stack budget', function () {
  it('holds one second of its share and refills at that share', function () {
    const budget = new StackBudget(0.01);
    assert.equal(budget.allows(0), true);
    assert.equal(budget.available, 10);
    // A long idle time does not bank more than one second's worth.
    budget.allows(60_000);
    assert.equal(budget.available, 10);
    budget.charge(0.02);
    budget.charge(0.02);
    assert.ok(Math.abs(budget.available - 9.96) < 1e-9, String(budget.available));
    // 100 ms later: 1 ms more, capped at the capacity.
    budget.allows(60_100);
    assert.equal(budget.available, 10);
  });

  it('turns captures down once they have spent the bucket, until it refills', function () {
    const budget = new StackBudget(0.01);
    let now = 0;
    let taken = 0;
    // 1,000 requests a millisecond apart, each a 50 µs capture: 50 ms a second against 10.
    for (let i = 0; i < 1000; i++, now += 1) {
      if (!budget.allows(now)) continue;
      budget.charge(0.05);
      taken++;
    }
    // One second: the bucket (10 ms) and what came in (10 ms), 50 µs each, give or take one.
    assert.ok(taken >= 399 && taken <= 402, `taken ${taken}`);
    assert.equal(budget.allows(now), false);
    assert.equal(budget.allows(now + 1000), true);
  });

  it('charges a capture at most twice the median capture, so a preempted one does not empty the bucket', function () {
    const budget = new StackBudget(0.01);
    budget.allows(0);
    for (let i = 0; i < 400; i++) budget.charge(0.01);
    const before = budget.available;
    // A capture the OS preempted for 5 ms.
    budget.charge(5);
    const charged = before - budget.available;
    assert.ok(charged > 0.015 && charged <= 0.025, `charged ${charged} ms`);
  });

  it('follows a dearer usual capture (a deeper stack) and charges it in full', function () {
    const budget = new StackBudget(0.01);
    budget.allows(0);
    for (let i = 0; i < 400; i++) budget.charge(0.005);
    for (let i = 0; i < 400; i++) budget.charge(0.04);
    const before = budget.available;
    budget.charge(0.04);
    assert.ok(Math.abs(before - budget.available - 0.04) < 1e-9, `charged ${before - budget.available}`);
  });

  it('leaves a reserve: a caller asking for half may not spend below it', function () {
    const budget = new StackBudget(0.01);
    budget.allows(0);
    for (let i = 0; i < 200; i++) budget.charge(0.02);
    for (let i = 0; i < 60 && budget.allows(0, 0.5); i++) budget.charge(0.02);
    assert.ok(budget.available <= 5 && budget.available > 4.9, String(budget.available));
    assert.equal(budget.allows(0, 0.5), false);
    assert.equal(budget.allows(0), true);
  });
});
