'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { truncate } = require('../src/truncate');

test('short text is unchanged', () => {
  assert.equal(truncate('hello', 5), 'hello');
  assert.equal(truncate('', 3), '');
});

test('cuts at a space near the end', () => {
  assert.equal(truncate('hello world', 8), 'hello…');
});

test('the result including the ellipsis fits max', () => {
  assert.equal(truncate('abcdefghijkl', 5), 'abcd…');
  for (const max of [1, 4, 7, 10, 15]) {
    assert.ok(truncate('the quick brown fox jumps over', max).length <= max);
  }
});

test('a custom ellipsis counts too', () => {
  assert.equal(truncate('abcdefghijkl', 6, { ellipsis: '...' }), 'abc...');
});

test('max below the ellipsis length is a RangeError', () => {
  assert.throws(() => truncate('abcdef', 2, { ellipsis: '...' }), RangeError);
});
