'use strict';

/**
 * Word-wrap text into lines of at most `width` characters. Whitespace runs count as
 * one space; a word longer than `width` is broken into pieces of `width`.
 *
 * @param {string} text
 * @param {number} width  at least 1
 * @returns {string[]}
 */
function wrap(text, width) {
  if (!Number.isInteger(width) || width < 1) {
    throw new RangeError('width must be a whole number of at least 1');
  }
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    for (const piece of pieces(word, width)) {
      if (line === '') {
        line = piece;
      } else if (line.length + 1 + piece.length <= width) {
        line += ' ' + piece;
      } else {
        lines.push(line);
        line = piece;
      }
    }
  }
  if (line !== '') {
    lines.push(line);
  }
  return lines;
}

function pieces(word, width) {
  const out = [];
  for (let i = 0; i < word.length; i += width) {
    out.push(word.slice(i, i + width));
  }
  return out;
}

module.exports = { wrap };
