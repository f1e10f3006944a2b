'use strict';

/**
 * Filters a template may apply: `{{ name | upper }}`, `{{ name | default:"anon" }}`.
 * Each takes the value (a string) and the argument (a string or undefined).
 */
const FILTERS = {
  upper: (value) => value.toUpperCase(),
  lower: (value) => value.toLowerCase(),
  trim: (value) => value.trim(),
  capitalize: (value) => value.charAt(0).toUpperCase() + value.slice(1),
  default: (value, fallback) => (value === '' ? fallback || '' : value),
};

const TAG = /\{\{\s*([^}]*?)\s*\}\}/g;

/**
 * Fill `{{ path | filter | filter:"arg" }}` tags from `context`. A path is a dotted
 * name (`user.name`); a missing value renders as ''. Filters apply left to right.
 *
 * @param {string} template
 * @param {object} context
 * @returns {string}
 */
function render(template, context) {
  return template.replace(TAG, (_, expression) => {
    const [path, ...filters] = expression.split('|').map((part) => part.trim());
    let value = lookup(context, path);
    for (const filter of filters) {
      value = applyFilter(filter, value);
    }
    return value;
  });
}

function lookup(context, path) {
  let value = context;
  for (const key of path.split('.')) {
    if (value === null || value === undefined) {
      break;
    }
    value = value[key];
  }
  return value === null || value === undefined ? '' : String(value);
}

function applyFilter(filter, value) {
  const match = /^(\w+)(?::"([^"]*)")?$/.exec(filter);
  if (!match || !Object.prototype.hasOwnProperty.call(FILTERS, match[1])) {
    throw new Error(`unknown filter: ${filter}`);
  }
  return FILTERS[match[1]](value, match[2]);
}

module.exports = { render, FILTERS };
