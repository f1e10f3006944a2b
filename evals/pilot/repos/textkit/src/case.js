'use strict';

/**
 * The words of an identifier or phrase: split at spaces, punctuation, underscores,
 * hyphens, lower-to-upper changes ('fooBar') and the end of an acronym ('XMLHttp' ->
 * 'XML', 'Http'). Digits stay with the letters before them.
 *
 * @param {string} text
 * @returns {string[]}
 */
function words(text) {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
}

function capitalize(word) {
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
}

/** 'hello world' -> 'helloWorld' */
function camelCase(text) {
  return words(text)
    .map((word, i) => (i === 0 ? word.toLowerCase() : capitalize(word)))
    .join('');
}

/** 'helloWorld' -> 'hello_world' */
function snakeCase(text) {
  return words(text).map((word) => word.toLowerCase()).join('_');
}

/** 'helloWorld' -> 'hello-world' */
function kebabCase(text) {
  return words(text).map((word) => word.toLowerCase()).join('-');
}

/** 'the lord of the rings' -> 'The Lord of the Rings': small words stay lower inside. */
const SMALL = new Set(['a', 'an', 'and', 'as', 'at', 'but', 'by', 'for', 'in', 'of', 'on', 'or', 'the', 'to']);

function titleCase(text) {
  const list = text.split(/\s+/).filter(Boolean);
  return list
    .map((word, i) => {
      const lower = word.toLowerCase();
      const inside = i > 0 && i < list.length - 1;
      return inside && SMALL.has(lower) ? lower : capitalize(word);
    })
    .join(' ');
}

module.exports = { words, camelCase, snakeCase, kebabCase, titleCase };
