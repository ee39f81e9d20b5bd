// @ts-check
// What pages share: moving between them, the message carried to the next page, and deleting an
// entity (read for its ETag, then DELETE with If-Match).
import { withEtag } from './api.js';
import { confirmAction } from './dialogs.js';
import { show, showError, showOk } from './dom.js';

/** @typedef {import('./api.js').OperationId} OperationId */

/** @type {{ flash: string, region: HTMLElement | null, route: () => Promise<void> }} */
export const state = { flash: '', region: null, route: async () => {} };

/** A message shown on the next page drawn. */
export function flash(/** @type {string} */ text) {
  state.flash = text;
}

/** Draws the page the hash names again. */
export const route = () => state.route();

/** The live region of the page on screen, for messages after it was drawn. */
export function setRegion(/** @type {HTMLElement} */ region) {
  state.region = region;
}

export function flashNow(/** @type {string} */ text) {
  if (state.region) showOk(state.region, text);
}

/**
 * One drawing of the page: what the shell's router hands the page it draws. A page still loading
 * when the person moves on must not draw over the next one, so its `show` and `setRegion` act
 * only while it is the latest drawing.
 * @typedef {{
 *   show: (...content: Array<Node | Node[]>) => void,
 *   setRegion: (region: HTMLElement) => void,
 *   isCurrent: () => boolean,
 * }} Drawing
 */
let drawings = 0;

/** @returns {Drawing} */
export function beginDrawing() {
  const drawing = ++drawings;
  const isCurrent = () => drawing === drawings;
  return {
    isCurrent,
    show: (...content) => {
      if (isCurrent()) show(...content);
    },
    setRegion: (region) => {
      if (isCurrent()) setRegion(region);
    },
  };
}

/** @param {string} hash */
export function go(hash) {
  if (location.hash === hash) state.route();
  else location.hash = hash;
}

/**
 * Deletes after confirming in a dialog that says what will happen: GET for the ETag, then DELETE
 * with If-Match.
 * @template {OperationId} K
 * @param {OperationId} read
 * @param {K} remove
 * @param {import('./openapi').Operations[K]['params']} params
 * @param {string} what "client web-app"
 * @param {HTMLElement} region
 * @param {string} [consequence] what deleting it does ("Applications using it can no longer sign in.")
 */
export async function confirmDelete(read, remove, params, what, region, consequence) {
  const confirmed = await confirmAction({
    title: `Delete ${what}?`,
    message: consequence ?? 'This cannot be undone.',
    action: `Delete ${what}`,
  });
  if (!confirmed) return;
  const result = await withEtag(read, remove, params);
  if (!result.ok) return showError(region, null, result);
  flash(`Deleted ${what}.`);
  await route();
}

/** The part of the hash after `?`, as search parameters. */
export const hashQuery = () => new URLSearchParams(location.hash.split('?')[1] ?? '');
