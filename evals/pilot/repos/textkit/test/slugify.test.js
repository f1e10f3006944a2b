'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { slugify } = require('../src/slugify');

test('lower case words joined by hyphens', () => {
  assert.equal(slugify('Hello, World!'), 'hello-world');
  assert.equal(slugify('  many   spaces  '), 'many-spaces');
});

test('accents are removed', () => {
  assert.equal(slugify('Crème brûlée à Paris'), 'creme-brulee-a-paris');
});

test('a custom separator', () => {
  assert.equal(slugify('Hello World', { separator: '_' }), 'hello_world');
});

test('nothing sluggable gives an empty slug', () => {
  assert.equal(slugify('!!!'), '');
});

test('maxLength keeps whole words', () => {
  assert.equal(slugify('Release notes for version 2', { maxLength: 12 }), 'release');
  assert.equal(slugify('Release notes for version 2', { maxLength: 13 }), 'release-notes');
});

test('maxLength never leaves a trailing separator', () => {
  assert.equal(slugify('Release notes', { maxLength: 8 }), 'release');
  assert.equal(slugify('ab cd ef', { maxLength: 6, separator: '--' }), 'ab--cd');
});

test('maxLength cuts a single long word', () => {
  assert.equal(slugify('Supercalifragilistic', { maxLength: 5 }), 'super');
});

test('a non-string is a TypeError', () => {
  assert.throws(() => slugify(42), TypeError);
});
