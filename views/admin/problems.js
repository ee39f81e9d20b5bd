// @ts-check
// The admin API's problems (RFC 9457 `problems`: a field path and a message) in plain words for a
// person at the form. The server words every problem already ("must be at least 8 characters
// long"); here they become a sentence beside the field ("Must be at least 8 characters"), and the
// few raw validator texts that may still come through are rewritten. The path stays, as detail.

/** @typedef {{ path: string, message: string }} Problem */

/** @type {Array<[RegExp, (match: RegExpExecArray) => string]>} */
const REWRITES = [
  [/^is required$/i, () => 'Required'],
  [/^Invalid input: expected \w+, received undefined$/, () => 'Required'],
  [/^must be at least 1 characters? long$/i, () => 'Required'],
  [/^Too small: expected string to have >=?1 characters?$/, () => 'Required'],
  [/^must be at least (\d+) characters? long$/i, (m) => `Must be at least ${m[1]} characters`],
  [/^Too small: expected string to have >=?(\d+) characters?$/, (m) => `Must be at least ${m[1]} characters`],
  [/^must be at most (\d+) characters? long$/i, (m) => `Must be at most ${m[1]} characters`],
  [/^Too big: expected string to have <=?(\d+) characters?$/, (m) => `Must be at most ${m[1]} characters`],
  [/^must be at least 1 item$/i, () => 'Choose at least one'],
  [/^must be at least (\d+) items$/i, (m) => `Choose at least ${m[1]}`],
  [/^must be at most (\d+) items?$/i, (m) => `Choose at most ${m[1]}`],
  [/^Too small: expected number to be >=?(-?\d+)$/, (m) => `Must be ${m[1]} or more`],
  [/^Too big: expected number to be <=?(-?\d+)$/, (m) => `Must be ${m[1]} or less`],
  [/^must be a valid url$/i, () => 'Must be a full URL, such as https://app.example.com/callback'],
  [
    /^(must be a valid email|Invalid email address)$/i,
    () => 'Must be an email address, such as alice@example.com',
  ],
  [/^must be a valid uuid$/i, () => 'Must be an id such as 2f1c…'],
  [/^must be one of (.+)$/i, (m) => `Choose one of ${m[1]}`],
  [/^must be an? (string|number|boolean|integer|array|object)$/i, (m) => `Must be ${article(m[1] ?? '')}`],
];

/** @param {string} word */
const article = (word) => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`);

/**
 * A problem's message as a sentence a person can act on.
 * @param {string} message
 */
export function plainMessage(message) {
  for (const [pattern, rewrite] of REWRITES) {
    const match = pattern.exec(message.trim());
    if (match) return rewrite(match);
  }
  const text = message.trim();
  return text ? text[0]?.toUpperCase() + text.slice(1) : 'Not valid';
}

/**
 * `grantTypes[1]` → `{ list: 'grantTypes', index: 1 }`; the last list index of the path, so that
 * `config.attributes[0].name` names the list `config.attributes`.
 * @param {string} path
 * @returns {{ list: string, index: number } | null}
 */
export function listItemOf(path) {
  const match = /^(.*)\[(\d+)\](?:\.[^[\]]*)?$/.exec(path);
  return match ? { list: match[1] ?? '', index: Number(match[2]) } : null;
}

/**
 * The paths a problem may be shown at, most precise first: `redirectUris[0]`, then `redirectUris`;
 * `config.userSearch.baseDN`, then `config.userSearch`, then `config`.
 * @param {string} path
 */
export function pathsToTry(path) {
  /** @type {string[]} */
  const paths = [];
  let current = path;
  while (current) {
    paths.push(current);
    const cut = Math.max(current.lastIndexOf('.'), current.lastIndexOf('['));
    current = cut > 0 ? current.slice(0, cut) : '';
  }
  return paths;
}
