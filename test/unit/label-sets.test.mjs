// The metrics' label sets: found from an event's raw values (two recent ones without a lookup), made
// once each, and a capped label's values past its cap all in one `other` set.
import assert from 'node:assert/strict';
import { LabelSets } from '../../dist/metrics/label-sets.js';
import { BatchTally } from '../../dist/core/batch-tally.js';

function labelSets(labels) {
  const made = [];
  const readers = labels.map((_, i) => (...args) => args[i]);
  const sets = new LabelSets(labels, readers, (values) => {
    const series = { values };
    made.push(series);
    return series;
  });
  return { sets, made };
}

describe('label sets', function () {
  it('gives each set of raw values its own series, made once, through any order of lookups', function () {
    const { sets, made } = labelSets([{ name: 'function' }, { name: 'status' }]);
    const order = [['A', 0], ['F', 0], ['A', 0], ['Q', 5], ['F', 0], ['A', 1], ['Q', 5], ['A', 0], ['A', 1]];
    const seen = new Map();
    for (const [fn, status] of order) {
      const series = sets.get(fn, status, 99);
      assert.deepEqual(series.values, [fn, String(status)], `${fn} ${status}`);
      const key = `${fn}/${status}`;
      if (seen.has(key)) assert.equal(series, seen.get(key), `${key} found again`);
      seen.set(key, series);
    }
    assert.equal(made.length, 4);
  });

  it('sends values past a cap to one other set, and keeps the sets made before the cap filled', function () {
    const { sets, made } = labelSets([{ name: 'function' }, { name: 'status', cap: 2 }]);
    const first = sets.get('A', 1);
    const second = sets.get('A', 2);
    const other = sets.get('A', 3);
    assert.deepEqual(other.values, ['A', 'other']);
    assert.equal(sets.get('A', 4), other);
    assert.equal(sets.get('A', 1), first);
    assert.equal(sets.get('A', 3), other);
    assert.equal(sets.get('A', 2), second);
    assert.equal(sets.get('B', 1).values[1], '1', 'the cap is per value of the labels before it');
    assert.equal(made.length, 4);
  });

  it('finds sets of one label and of three', function () {
    const one = labelSets([{ name: 'kind' }]);
    assert.equal(one.sets.get('context'), one.sets.get('context'));
    assert.notEqual(one.sets.get('context'), one.sets.get('credential'));
    const three = labelSets([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    assert.equal(three.sets.get(1, 2, 3), three.sets.get(1, 2, 3));
    assert.notEqual(three.sets.get(1, 2, 3), three.sets.get(1, 2, 4));
    assert.equal(three.made.length, 2);
  });
});

describe('a batch tally', function () {
  it('hands each pair its batch numbers, in call order, and leaves arrays already handed out as they were', function () {
    const tally = new BatchTally();
    const taken = [];
    const take = (entry) => taken.push({ a: entry.a, b: entry.b, count: entry.count, values: entry.values });
    tally.add('Acquire', 0, 1);
    tally.add('Free', 0, 2);
    tally.add('Acquire', 0, 3);
    tally.flush(take);
    tally.add('Acquire', 0, 4);
    tally.flush(take);
    assert.deepEqual(
      taken.map(({ a, count, values }) => [a, count, [...values]]),
      [['Acquire', 2, [1, 3]], ['Free', 1, [2]], ['Acquire', 1, [4]]],
    );
    assert.deepEqual(taken[0].values, [1, 3], "the first batch's array, once handed out, is not reused");
    assert.equal(tally.pending, false);
  });

  it('counts an event heard while a batch is told in the next batch, alone', function () {
    const tally = new BatchTally();
    const taken = [];
    let reentered = false;
    const take = (entry) => {
      taken.push([entry.count, entry.values]);
      if (!reentered) {
        reentered = true;
        tally.add('Acquire', 0, 99);
      }
    };
    tally.add('Acquire', 0, 1);
    tally.add('Acquire', 0, 2);
    tally.flush(take);
    tally.flush(take);
    assert.deepEqual(taken, [[2, [1, 2]], [1, [99]]]);
  });

  it('tells every pair of a batch when a listener adds new pairs while it is told', function () {
    const tally = new BatchTally();
    const taken = [];
    let reentered = false;
    const take = (entry) => {
      taken.push([entry.a, entry.count, [...entry.values]]);
      if (!reentered) {
        reentered = true;
        tally.add('Query', 0, 7);
        tally.add('Delete', 0, 8);
      }
    };
    tally.add('Acquire', 0, 1);
    tally.add('Free', 0, 2);
    tally.flush(take);
    tally.flush(take);
    assert.deepEqual(taken, [['Acquire', 1, [1]], ['Free', 1, [2]], ['Query', 1, [7]], ['Delete', 1, [8]]]);
    assert.equal(tally.pending, false);
  });
});
