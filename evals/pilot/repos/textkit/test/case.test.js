'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { words, camelCase, snakeCase, kebabCase, titleCase } = require('../src/case');

test('splits words at spaces, punctuation and case changes', () => {
  assert.deepEqual(words('hello world'), ['hello', 'world']);
  assert.deepEqual(words('fooBar_baz-qux'), ['foo', 'Bar', 'baz', 'qux']);
  assert.deepEqual(words('version2Update'), ['version2', 'Update']);
});

test('splits at the end of an acronym', () => {
  assert.deepEqual(words('XMLHttpRequest'), ['XML', 'Http', 'Request']);
  assert.equal(camelCase('parse HTMLString'), 'parseHtmlString');
});

test('an acronym before a word stays one word', () => {
  assert.equal(snakeCase('parseHTTPResponse'), 'parse_http_response');
  assert.equal(kebabCase('IOError'), 'io-error');
});

test('camelCase', () => {
  assert.equal(camelCase('hello world'), 'helloWorld');
  assert.equal(camelCase('Hello_World-again'), 'helloWorldAgain');
});

test('snakeCase and kebabCase', () => {
  assert.equal(snakeCase('helloWorld again'), 'hello_world_again');
  assert.equal(kebabCase('HelloWorld'), 'hello-world');
  assert.equal(kebabCase('userID'), 'user-id');
});

test('titleCase keeps small words lower inside the title', () => {
  assert.equal(titleCase('the lord of the rings'), 'The Lord of the Rings');
  assert.equal(titleCase('war AND peace'), 'War and Peace');
});

test('titleCase capitalizes a small word at either end', () => {
  assert.equal(titleCase('of mice and men'), 'Of Mice and Men');
  assert.equal(titleCase('something to look up to'), 'Something to Look Up To');
});

test('empty input', () => {
  assert.deepEqual(words(''), []);
  assert.equal(camelCase(''), '');
  assert.equal(titleCase('   '), '');
});
