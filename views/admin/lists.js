// @ts-check
// Lists of the console: a table whose rows become stacked "label: value" cards on a narrow screen,
// with search, paging (the API's `next` cursor), a loading state, an empty-result message and a
// "Couldn't load — Retry" state that replaces the rows (never the previous page's table).
import { h } from './dom.js';

/** @typedef {import('./dom.js').Child} Child */
/** @typedef {import('./api.js').ApiResult<{ items: unknown[], next?: string | null }>} PageResult */

/**
 * @template T
 * @typedef {object} Column
 * @property {string} label the header, and the label of the value in a stacked row
 * @property {(item: T) => Child} cell
 * @property {'actions' | 'id'} [kind] `actions`: row buttons; `id`: ids and URLs, which may wrap anywhere
 */

/**
 * @template T
 * @typedef {object} ListOptions
 * @property {Array<Column<T>>} columns
 * @property {(page: { q: string, cursor: string | undefined, limit: number }) => Promise<import('./api.js').ApiResult<{ items: T[], next?: string | null }>>} load
 * @property {string} [caption] the table's accessible name ("Local users")
 * @property {string} [searchLabel] shows a search box with this label ("Search users")
 * @property {string} [q] the search text to start with
 * @property {(q: string) => void} [onSearch] called with the new search text (e.g. to put it in the URL)
 * @property {string} [empty] when there is nothing at all
 * @property {(q: string) => string} [noMatch] when a search found nothing
 * @property {number} [limit]
 */

/**
 * A list that loads a page at a time. `reload()` draws the current page again.
 * @template T
 * @param {ListOptions<T>} options
 * @returns {HTMLElement & { reload: () => Promise<void>, loaded: Promise<void> }}
 */
export function pagedList(options) {
  const { columns, caption, searchLabel, limit = 25 } = options;
  let q = options.q ?? '';
  /** Cursors of the pages before this one (the first page's is undefined). */
  /** @type {Array<string | undefined>} */
  let previous = [];
  /** @type {string | undefined} */
  let cursor;
  const body = h('div', { class: 'list-body', 'aria-live': 'polite', 'aria-busy': 'false' });
  const pager = h('nav', { class: 'pager', 'aria-label': `${caption ?? 'List'} pages`, hidden: true });

  // Counts the loads: one answered after a later search or page was asked for is not drawn.
  let loads = 0;
  const draw = async () => {
    const mine = ++loads;
    body.setAttribute('aria-busy', 'true');
    body.replaceChildren(loadingState());
    pager.hidden = true;
    /** @type {Awaited<ReturnType<typeof options.load>>} */
    let result;
    try {
      result = await options.load({ q, cursor, limit });
    } catch (error) {
      result = { ok: false, status: 0, data: null, etag: null };
      console.warn(error);
    }
    if (mine !== loads) return;
    body.setAttribute('aria-busy', 'false');
    if (!result.ok) {
      body.replaceChildren(errorState(result, draw));
      return;
    }
    const { items, next } = result.data;
    if (items.length === 0) {
      body.replaceChildren(
        h(
          'p',
          { class: 'empty' },
          q ? (options.noMatch?.(q) ?? `Nothing matches “${q}”.`) : (options.empty ?? 'Nothing here yet.'),
        ),
      );
    } else body.replaceChildren(dataTable(columns, items, caption));
    pager.replaceChildren(
      h(
        'button',
        {
          type: 'button',
          disabled: previous.length === 0,
          onclick: () => {
            cursor = previous.pop();
            draw();
          },
        },
        'Previous page',
      ),
      h('span', { class: 'muted' }, `Page ${previous.length + 1}`),
      h(
        'button',
        {
          type: 'button',
          disabled: !next,
          onclick: () => {
            previous.push(cursor);
            cursor = next ?? undefined;
            draw();
          },
        },
        'Next page',
      ),
    );
    pager.hidden = previous.length === 0 && !next;
  };

  /** @type {HTMLElement | false} */
  let search = false;
  if (searchLabel) {
    const input = h('input', {
      type: 'search',
      name: 'q',
      id: `q${Math.random().toString(36).slice(2)}`,
      value: q,
    });
    const form = h(
      'form',
      { class: 'toolbar', role: 'search', 'aria-label': searchLabel },
      h('div', { class: 'field' }, h('label', { for: input.id }, searchLabel), input),
      h('button', { type: 'submit' }, 'Search'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      q = input.value.trim();
      previous = [];
      cursor = undefined;
      options.onSearch?.(q);
      draw();
    });
    search = form;
  }
  const element = h('div', { class: 'list' }, search, body, pager);
  return Object.assign(element, { reload: draw, loaded: draw() });
}

/**
 * A table of items; on a narrow screen each row is a card of "label: value" lines (CSS reads the
 * cells' data-label).
 * @template T
 * @param {Array<Column<T>>} columns
 * @param {T[]} items
 * @param {string} [caption]
 */
export function dataTable(columns, items, caption) {
  return h(
    'table',
    { class: 'stacking' },
    caption && h('caption', { class: 'visually-hidden' }, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((column) =>
          h(
            'th',
            { scope: 'col' },
            column.kind === 'actions' ? h('span', { class: 'visually-hidden' }, column.label) : column.label,
          ),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      items.map((item) =>
        h(
          'tr',
          {},
          columns.map((column) =>
            h('td', { 'data-label': column.label, class: column.kind }, column.cell(item)),
          ),
        ),
      ),
    ),
  );
}

/** What a list shows while its page loads. */
export const loadingState = () => h('p', { class: 'loading muted', role: 'status' }, 'Loading…');

/**
 * What shows in place of a list or page that could not be read: why, and a Retry button.
 * @param {{ status: number, data: { error?: string } | null }} result
 * @param {() => unknown} retry
 */
export function errorState(result, retry) {
  const why =
    result.status === 0
      ? 'Lock did not answer. Check your connection.'
      : result.status === 503 || result.status >= 500
        ? (result.data?.error ?? 'Lock cannot reach its database right now.')
        : (result.data?.error ?? `The request failed (${result.status}).`);
  return h(
    'div',
    { class: 'alert error load-error', role: 'alert' },
    h('strong', {}, 'Couldn’t load'),
    h('p', {}, why),
    h('button', { type: 'button', onclick: retry }, 'Retry'),
  );
}

/**
 * A row button whose accessible name says what it acts on ("Disable alice"); with `disabledWhy`,
 * it is disabled and the reason is shown beside it.
 * @param {string} verb "Disable"
 * @param {string} target "alice"
 * @param {(event: MouseEvent) => unknown} onclick
 * @param {{ danger?: boolean, disabledWhy?: string, title?: string }} [options]
 */
export function rowButton(verb, target, onclick, { danger, disabledWhy, title } = {}) {
  const reasonId = disabledWhy ? `why${Math.random().toString(36).slice(2)}` : undefined;
  const button = h(
    'button',
    {
      type: 'button',
      class: danger ? 'danger' : undefined,
      'aria-label': `${verb} ${target}`,
      disabled: Boolean(disabledWhy),
      'aria-describedby': reasonId,
      title: disabledWhy ?? title,
      onclick,
    },
    verb,
  );
  return disabledWhy ? [button, h('span', { class: 'why hint', id: reasonId }, disabledWhy)] : [button];
}

/**
 * A page of an array the API gives whole, for `pagedList` (search on the given text).
 * @template T
 * @param {T[]} items
 * @param {{ q: string, cursor: string | undefined, limit: number }} page
 * @param {(item: T) => string} text
 * @returns {{ items: T[], next: string | null }}
 */
export function localPage(items, { q, cursor, limit }, text) {
  const needle = q.toLowerCase();
  const matching = needle ? items.filter((item) => text(item).toLowerCase().includes(needle)) : items;
  const start = Number(cursor ?? 0);
  return {
    items: matching.slice(start, start + limit),
    next: start + limit < matching.length ? String(start + limit) : null,
  };
}
