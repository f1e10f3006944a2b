'use strict';

/**
 * Shorten text to at most `max` characters, the ellipsis included. Prefers to cut at
 * a space when one lies in the last third of the kept text.
 *
 * @param {string} text
 * @param {number} max
 * @param {{ellipsis?: string}} [options]  default '…'
 * @returns {string}
 */
function truncate(text, max, options = {}) {
  const ellipsis = options.ellipsis === undefined ? '…' : options.ellipsis;
  if (!Number.isInteger(max) || max < ellipsis.length) {
    throw new RangeError('max must be a whole number no smaller than the ellipsis');
  }
  if (text.length <= max) {
    return text;
  }
  let kept = text.slice(0, max - ellipsis.length);
  const space = kept.lastIndexOf(' ');
  if (space >= (kept.length * 2) / 3) {
    kept = kept.slice(0, space);
  }
  return kept.trimEnd() + ellipsis;
}

module.exports = { truncate };
