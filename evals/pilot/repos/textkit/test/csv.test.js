'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { parseCsvLine, parseCsv } = require('../src/csv');

test('splits plain fields', () => {
  assert.deepEqual(parseCsvLine('a,b,,c'), ['a', 'b', '', 'c']);
});

test('quoted fields keep commas', () => {
  assert.deepEqual(parseCsvLine('"a, b",c'), ['a, b', 'c']);
});

test('doubled quotes inside a quoted field are one quote', () => {
  assert.deepEqual(parseCsvLine('"say ""hi""",x'), ['say "hi"', 'x']);
});

test('a quoted field that is only a quote', () => {
  assert.deepEqual(parseCsvLine('"""",""'), ['"', '']);
});

test('an unterminated quote is an error', () => {
  assert.throws(() => parseCsvLine('"abc'), /unterminated/);
});

test('parses rows and skips blank lines', () => {
  assert.deepEqual(parseCsv('a,b\r\n1,2\n\n3,"4"\n'), [['a', 'b'], ['1', '2'], ['3', '4']]);
});

test('a custom delimiter', () => {
  assert.deepEqual(parseCsvLine('a;"b;c";d', { delimiter: ';' }), ['a', 'b;c', 'd']);
  assert.deepEqual(parseCsv('x\ty\n1\t2', { delimiter: '\t' }), [['x', 'y'], ['1', '2']]);
});

test('a bad delimiter is an error', () => {
  for (const delimiter of ['', ';;', '"']) {
    assert.throws(() => parseCsvLine('a', { delimiter }), /delimiter/);
  }
});
