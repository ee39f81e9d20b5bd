// @ts-check
// What the detail pages of clients, APIs, roles and role mappings share: their place in the hash
// (#/clients/<id>), saving with the ETag read (a 412 says someone else changed it: reload), deleting
// after a confirmation dialog that names what follows, and the note on entities the admin cannot
// change. Field errors, dialogs and lists are the console's building blocks (dom.js, dialogs.js, lists.js).
import { api } from '../api.js';
import { confirmAction } from '../dialogs.js';
import { h, show, showError } from '../dom.js';
import { flash, go, route } from '../navigation.js';

/** @typedef {import('../api.js').OperationId} OperationId */
/** @typedef {import('../openapi').Operations} Operations */

/** The hash's path after the section, decoded: #/roles/mapping/corp/admins → ['mapping', 'corp', 'admins']. */
export function subPath() {
  const path = location.hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  return path.split('/').slice(1).filter(Boolean).map(decodeURIComponent);
}

/** @param {string[]} segments */
export const hashOf = (...segments) => `#/${segments.map(encodeURIComponent).join('/')}`;

/**
 * The answer to a save that failed: a 412 (the entity changed since it was read) offers a reload;
 * anything else is shown beside the form.
 * @param {HTMLElement} region
 * @param {HTMLFormElement} form
 * @param {{ status: number, data: import('../openapi').ProblemDetails | null }} result
 * @param {string} what e.g. "client web-app"
 */
export function saveFailed(region, form, result, what) {
  if (result.status !== 412) return showError(region, form, result);
  region.replaceChildren(
    h(
      'div',
      { class: 'alert error', role: 'alert', tabindex: '-1' },
      h('strong', {}, `Someone else changed ${what} since you opened it.`),
      h(
        'p',
        {},
        'Your change was not saved, so theirs is not lost. Reload to see the current settings, then make your change again.',
      ),
      h('button', { type: 'button', class: 'primary', onclick: () => route() }, 'Reload'),
    ),
  );
  /** @type {HTMLElement} */ (region.firstElementChild).focus();
}

/**
 * Deletes after a confirmation naming what follows: DELETE with the ETag the page read.
 * @template {OperationId} K
 * @param {K} remove
 * @param {Operations[K]['params']} params
 * @param {{ what: string, consequences: string, etag: string | null, region: HTMLElement, back: string }} options
 */
export async function deleteEntity(remove, params, { what, consequences, etag, region, back }) {
  if (!(await confirmAction({ title: `Delete ${what}?`, message: consequences, action: `Delete ${what}` })))
    return;
  const result = await api(remove, { params, etag });
  if (!result.ok) {
    if (result.status === 412)
      return showError(region, null, {
        status: 412,
        data: /** @type {import('../openapi').ProblemDetails} */ ({
          error: `Someone else changed ${what} since you opened it: reload, then decide again.`,
        }),
      });
    return showError(region, null, result);
  }
  flash(`Deleted ${what}.`);
  go(back);
}

/**
 * Why the form is read-only: the entity belongs to the declarative file or to Lock itself.
 * @param {'config' | 'builtin' | null | undefined} managedBy
 */
export const readOnlyNote = (managedBy) =>
  !managedBy
    ? []
    : h(
        'p',
        { class: 'alert', role: 'note' },
        managedBy === 'config'
          ? 'The declarative file owns this: change it there and apply the file again.'
          : 'Built into Lock: it cannot be changed here.',
      );

/**
 * The page of an entity that could not be read (deleted meanwhile, or a mistyped address).
 * @param {string} heading
 * @param {{ status: number, data: import('../openapi').ProblemDetails | null }} result
 * @param {string} back
 * @param {string} backLabel
 */
export function notFoundPage(heading, result, back, backLabel) {
  show(
    h('h1', {}, heading),
    h(
      'p',
      { class: 'alert error', role: 'alert' },
      result.status === 404
        ? 'It does not exist (any more).'
        : (result.data?.error ?? 'It could not be read.'),
    ),
    h('a', { class: 'button', href: back }, backLabel),
  );
}

/**
 * The link back to the list, above a detail page's heading.
 * @param {string} href
 * @param {string} label
 */
export const backLink = (href, label) => h('p', { class: 'back' }, h('a', { href }, `← ${label}`));
