'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { wrap } = require('../src/wrap');

test('wraps at word boundaries', () => {
  assert.deepEqual(wrap('the quick brown fox jumps', 10), ['the quick', 'brown fox', 'jumps']);
});

test('whitespace runs count as one space', () => {
  assert.deepEqual(wrap('  a \n\t b  ', 10), ['a b']);
});

test('a line may be exactly the width', () => {
  assert.deepEqual(wrap('abc def', 7), ['abc def']);
});

test('empty text gives no lines', () => {
  assert.deepEqual(wrap('', 5), []);
});

test('breaks a word longer than the width', () => {
  assert.deepEqual(wrap('abcdefghij', 4), ['abcd', 'efgh', 'ij']);
});

test('wrapping keeps every character', () => {
  const text = 'short words and a verylongwordindeed to break';
  for (const width of [3, 5, 9]) {
    assert.equal(wrap(text, width).join(' ').replace(/\s+/g, ''), text.replace(/\s+/g, ''));
  }
});

test('no line is ever longer than the width', () => {
  const text = 'a sesquipedalian verbosity of antidisestablishmentarianism';
  for (const width of [1, 3, 8, 12]) {
    for (const line of wrap(text, width)) {
      assert.ok(line.length <= width, `${JSON.stringify(line)} is longer than ${width}`);
    }
  }
});

test('a bad width is a RangeError', () => {
  assert.throws(() => wrap('x', 0), RangeError);
  assert.throws(() => wrap('x', 2.5), RangeError);
});
