'use strict';

/**
 * A URL slug: accents removed, lower case, runs of anything but letters and digits
 * replaced by one separator, no separator at either end.
 *
 * @param {string} text
 * @param {{separator?: string, maxLength?: number}} [options]
 *   maxLength cuts the slug to at most that many characters; it keeps whole words
 *   (cuts at a separator) unless the first word alone is too long, and never leaves
 *   a separator at the end.
 * @returns {string}
 */
function slugify(text, options = {}) {
  const separator = options.separator === undefined ? '-' : options.separator;
  const maxLength = options.maxLength === undefined ? Infinity : options.maxLength;
  if (typeof text !== 'string') {
    throw new TypeError('slugify expects a string');
  }
  const plain = text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  const parts = plain.split(/[^a-z0-9]+/).filter(Boolean);
  let slug = parts.join(separator);
  if (slug.length > maxLength) {
    let kept = '';
    for (const part of parts) {
      const longer = kept ? kept + separator + part : part;
      if (longer.length > maxLength) {
        break;
      }
      kept = longer;
    }
    slug = kept || slug.slice(0, maxLength);
  }
  return slug;
}

module.exports = { slugify };
