'use strict';

/**
 * Split one CSV line into fields. Fields may be quoted with `"`; inside quotes the
 * delimiter is text and `""` is one quote.
 *
 * @param {string} line
 * @param {{delimiter?: string}} [options]  delimiter: one character, ',' by default
 * @returns {string[]}
 */
function parseCsvLine(line, options = {}) {
  const delimiter = options.delimiter === undefined ? ',' : options.delimiter;
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"') {
    throw new Error('the delimiter must be one character other than "');
  }
  const fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else {
      field += ch;
    }
  }
  if (quoted) {
    throw new Error('unterminated quoted field');
  }
  fields.push(field);
  return fields;
}

/**
 * Parse CSV text into rows of fields; `\n` and `\r\n` end rows and blank lines are
 * skipped. (Quoted fields cannot span lines.)
 *
 * @param {string} text
 * @param {{delimiter?: string}} [options]
 * @returns {string[][]}
 */
function parseCsv(text, options = {}) {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => parseCsvLine(line, options));
}

module.exports = { parseCsvLine, parseCsv };
