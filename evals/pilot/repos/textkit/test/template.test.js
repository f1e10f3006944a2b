'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { render } = require('../src/template');

test('fills names and dotted paths', () => {
  assert.equal(render('Hi {{name}}, you are in {{ user.city }}.', { name: 'Ada', user: { city: 'London' } }), 'Hi Ada, you are in London.');
});

test('a missing value renders empty', () => {
  assert.equal(render('[{{ nope }}|{{ a.b.c }}]', { a: null }), '[|]');
});

test('numbers and booleans render as text', () => {
  assert.equal(render('{{n}} {{ok}}', { n: 0, ok: false }), '0 false');
});

test('a filter', () => {
  assert.equal(render('{{ name | upper }}', { name: 'ada' }), 'ADA');
});

test('filters apply left to right', () => {
  assert.equal(render('{{ name | lower | capitalize }}', { name: 'mcDONALD' }), 'Mcdonald');
  assert.equal(render('{{ name|trim|upper }}!', { name: '  hi ' }), 'HI!');
});

test('default gives its argument for a missing or empty value', () => {
  assert.equal(render('{{ nick | default:"anon" }}', {}), 'anon');
  assert.equal(render('{{ nick | default:"anon" }}', { nick: '' }), 'anon');
  assert.equal(render('{{ nick | default:"anon" }}', { nick: 'zed' }), 'zed');
});

test('default with other filters', () => {
  assert.equal(render('{{ nick | default:"anon" | upper }}', {}), 'ANON');
  assert.equal(render('{{ nick | default:"" }}', {}), '');
});

test('an unknown filter is an error', () => {
  assert.throws(() => render('{{ x | shout }}', { x: 'a' }), /unknown filter: shout/);
});
