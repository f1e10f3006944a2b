'use strict';

const { slugify } = require('./slugify');
const { wrap } = require('./wrap');
const { words, camelCase, snakeCase, kebabCase, titleCase } = require('./case');
const { render, FILTERS } = require('./template');
const { parseCsvLine, parseCsv } = require('./csv');
const { truncate } = require('./truncate');

module.exports = {
  slugify,
  wrap,
  words,
  camelCase,
  snakeCase,
  kebabCase,
  titleCase,
  render,
  FILTERS,
  parseCsvLine,
  parseCsv,
  truncate,
};
