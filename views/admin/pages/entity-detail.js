// @ts-check
// What the detail pages of clients, APIs, roles and role mappings share: their place in the hash
// (#/clients/<id>), saving with the ETag read (a 412 says someone else changed it: reload), deleting
// after a confirmation dialog that names what follows, and the note on entities the admin cannot
// change. Field errors, dialogs and lists are the console's building blocks (dom.js, dialogs.js, lists.js).
import { api } from '../api.js';
import { confirmAction } from '../dialogs.js';
import { h, owner, showError } from '../dom.js';
import { pagedList } from '../lists.js';
import { flash, go, hashQuery, route } from '../navigation.js';

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
 * @param {import('../navigation.js').Drawing} draw
 * @param {string} heading
 * @param {{ status: number, data: import('../openapi').ProblemDetails | null }} result
 * @param {string} back
 * @param {string} backLabel
 */
export function notFoundPage(draw, heading, result, back, backLabel) {
  draw.show(
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
 * Where a detail page is, above its heading: the list it belongs to (a link back), then its name.
 * @param {string} href
 * @param {string} label
 * @param {string} current
 */
export const backLink = (href, label, current) =>
  h('p', { class: 'crumbs' }, h('a', { href }, label), ' › ', current);
/**
 * @template T
 * @typedef {object} EntityListOptions
 * @property {string} section the hash's section: #/<section>?search=…
 * @property {'listClients' | 'listResources' | 'listRoleMappings'} operation
 * @property {string} caption "Clients"
 * @property {string} noun "client"
 * @property {Array<import('../lists.js').Column<T>>} columns
 */

/**
 * A list of one kind of entity a page at a time, searchable, its search text kept in the hash
 * (#/clients?search=shop), each row opening the entity's page.
 * @template T
 * @param {EntityListOptions<T>} options
 */
export function entityList({ section, operation, caption, noun, columns }) {
  return pagedList({
    caption,
    searchLabel: `Search ${caption.toLowerCase()}`,
    q: hashQuery().get('search') ?? '',
    onSearch: (text) =>
      history.replaceState(null, '', `#/${section}${text ? `?search=${encodeURIComponent(text)}` : ''}`),
    load: ({ q, cursor, limit }) =>
      /** @type {Promise<import('../api.js').ApiResult<{ items: T[], next?: string | null }>>} */ (
        api(operation, { query: { limit, ...(q && { q }), ...(cursor && { cursor }) } })
      ),
    empty: `No ${caption.toLowerCase()} yet.`,
    noMatch: (q) => `No ${noun} matches “${q}”.`,
    columns,
  });
}

/**
 * The link of a row to its entity's page, named for the row ("Open client web-app").
 * @param {string} href
 * @param {string} what "client web-app"
 * @param {'config' | 'builtin' | null} managedBy
 */
export const openLink = (href, what, managedBy) =>
  h('a', { class: 'button', href, 'aria-label': `Open ${what}` }, managedBy ? 'View' : 'Edit');

/**
 * @template {OperationId} K
 * @typedef {object} DetailFormOptions
 * @property {string} label the form's accessible name
 * @property {Node | Node[]} fields
 * @property {boolean} editable false: the declarative file or Lock owns it (fields disabled, no buttons)
 * @property {HTMLElement} region where messages go
 * @property {string} what "client web-app"
 * @property {(form: HTMLFormElement) => Promise<{ ok: boolean, status: number, data: any }>} save
 * @property {(saved: any) => unknown} [saved] after a save (default: "Saved …" and the page again)
 * @property {Node[]} [buttons] between Save and Delete
 * @property {{ operation: K, params: Operations[K]['params'], consequences: string, etag: () => string | null, back: string, label: string } | false} remove
 */

/**
 * A detail page's form: the fields, Save changes (a 412 offers a reload), other buttons, and Delete
 * after a confirmation naming what follows.
 * @template {OperationId} K
 * @param {DetailFormOptions<K>} options
 */
export function detailForm({ label, fields, editable, region, what, save, saved, buttons = [], remove }) {
  const form = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-label': label },
    h('fieldset', { class: 'plain', disabled: !editable }, fields),
    region,
    editable &&
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'submit', class: 'primary' }, 'Save changes'),
        buttons,
        remove &&
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: () =>
                deleteEntity(remove.operation, remove.params, {
                  what,
                  consequences: remove.consequences,
                  etag: remove.etag(),
                  region,
                  back: remove.back,
                }),
            },
            remove.label,
          ),
      ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const result = await save(form);
    if (!result.ok) return saveFailed(region, form, result, what);
    if (saved) return saved(result.data);
    flash(`Saved ${what}.`);
    await route();
  });
  return form;
}

/**
 * Draws a detail page: the way back, the heading with its owner, why it is read-only if it is,
 * then the content; `region` takes the page's messages.
 * @param {import('../navigation.js').Drawing} draw
 * @param {{ back: string, backLabel: string, name: string, title: string, managedBy: 'config' | 'builtin' | null, region: HTMLElement }} page
 * @param {Array<Node | Node[]>} content
 */
export function showDetail(draw, { back, backLabel, name, title, managedBy, region }, ...content) {
  draw.show(
    backLink(back, backLabel, name),
    h('h1', {}, title, ' ', owner(managedBy)),
    readOnlyNote(managedBy),
    ...content,
  );
  draw.setRegion(region);
}

/**
 * A titled group of a form's fields, laid out in the form's grid.
 * @param {string} legend
 * @param {import('../dom.js').Child[]} fields
 */
export const fieldGroup = (legend, ...fields) =>
  h('fieldset', {}, h('legend', {}, legend), h('div', { class: 'grid' }, ...fields));
