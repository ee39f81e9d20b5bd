// @ts-check
// DOM helpers of the admin console: elements are built with DOM APIs only (never innerHTML), so
// data from the API is never parsed as HTML.

/** @typedef {import('./openapi').ProblemDetails} ApiError */
/** @typedef {string | Node | false | null | undefined | Child[]} Child */
/** @typedef {Record<string, unknown>} Attributes */

/**
 * h('tag', { attr, onclick }, ...children): builds elements without ever parsing data as HTML.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attributes | null} [attrs]
 * @param {Child[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else if (key === 'class') el.className = String(value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of flatten(children)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/**
 * @param {Child[]} children
 * @returns {Array<string | Node | false | null | undefined>}
 */
function flatten(children) {
  return children.flatMap((child) => (Array.isArray(child) ? flatten(child) : [child]));
}

/** @returns {HTMLElement} */
export const main = () => /** @type {HTMLElement} */ (document.getElementById('main'));
let fieldCounter = 0;

/** @param {Array<Node | Node[]>} content */
export function show(...content) {
  main().replaceChildren(...content.flat());
}

/**
 * @typedef {object} FieldOptions
 * @property {string} [type]
 * @property {string | boolean | null} [value]
 * @property {string} [hint]
 * @property {string} [path] the API's problem path this field answers to
 * @property {boolean} [wide]
 * @property {boolean} [required]
 * @property {string} [placeholder]
 * @property {Array<[string, string]>} [options]
 * @property {number} [rows]
 */

/**
 * A labelled input; `path` ties it to the API's problem paths.
 * @param {string} label
 * @param {string} name
 * @param {FieldOptions} [options]
 */
export function field(
  label,
  name,
  { type = 'text', value = '', hint, path, wide, required, placeholder, options, rows } = {},
) {
  const id = `f${++fieldCounter}`;
  const hintId = hint ? `${id}-hint` : undefined;
  let control;
  if (type === 'checkbox') {
    control = h('input', {
      type: 'checkbox',
      id,
      name,
      checked: Boolean(value),
      'data-path': path,
      'aria-describedby': hintId,
    });
    return h(
      'div',
      { class: `field check${wide ? ' wide' : ''}` },
      control,
      h('label', { for: id }, label),
      hint && h('span', { class: 'hint', id: hintId }, hint),
    );
  }
  if (type === 'select') {
    control = h(
      'select',
      { id, name, 'data-path': path, 'aria-describedby': hintId },
      (options ?? []).map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
    );
  } else if (type === 'textarea') {
    control = h('textarea', {
      id,
      name,
      'data-path': path,
      rows: rows ?? 4,
      placeholder,
      'aria-describedby': hintId,
    });
    control.value = String(value ?? '');
  } else {
    control = h('input', {
      type,
      id,
      name,
      value: value ?? '',
      'data-path': path,
      required,
      placeholder,
      'aria-describedby': hintId,
      autocomplete: type === 'password' ? 'new-password' : 'off',
    });
  }
  return h(
    'div',
    { class: `field${wide ? ' wide' : ''}` },
    h('label', { for: id }, label),
    control,
    hint && h('span', { class: 'hint', id: hintId }, hint),
  );
}

/**
 * A form control's value, trimmed (a checkbox's: checked).
 * @param {HTMLFormElement} form
 * @param {string} name
 * @returns {string}
 */
export function formValue(form, name) {
  const el = /** @type {HTMLInputElement | null} */ (form.elements.namedItem(name));
  return el ? el.value.trim() : '';
}

/**
 * @param {HTMLFormElement} form
 * @param {string} name
 * @returns {boolean}
 */
export function formChecked(form, name) {
  const el = /** @type {HTMLInputElement | null} */ (form.elements.namedItem(name));
  return el?.checked ?? false;
}

/**
 * The untrimmed value (passwords are sent as typed).
 * @param {HTMLFormElement} form
 * @param {string} name
 */
export function rawValue(form, name) {
  return /** @type {HTMLInputElement} */ (form.elements.namedItem(name)).value;
}

/** @param {string | undefined} text */
export const list = (text) =>
  (text ?? '')
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Shows an API error (and its field paths) in the form's alert region, marking the fields.
 * @param {HTMLElement} region
 * @param {HTMLFormElement | null} form
 * @param {{ status: number, data: ApiError | null }} result
 */
export function showError(region, form, result) {
  for (const el of form?.querySelectorAll('[aria-invalid]') ?? []) el.removeAttribute('aria-invalid');
  const problems = result.data?.problems ?? [];
  for (const problem of problems) {
    const el = form?.querySelector(`[data-path="${CSS.escape(problem.path)}"]`);
    if (el) el.setAttribute('aria-invalid', 'true');
  }
  region.replaceChildren(
    h(
      'div',
      { class: 'alert error', role: 'alert' },
      h('strong', {}, result.data?.error ?? `The request failed (${result.status}).`),
      problems.length > 0 &&
        h(
          'ul',
          {},
          problems.map((p) => h('li', {}, h('code', {}, p.path || '(body)'), ' ', p.message)),
        ),
    ),
  );
}

/**
 * @param {HTMLElement} region
 * @param {Child[]} content
 */
export function showOk(region, ...content) {
  region.replaceChildren(h('div', { class: 'alert ok', role: 'status' }, ...content));
}

/**
 * @param {string[]} headers
 * @param {HTMLElement[]} rows
 * @param {string} [empty]
 */
export function table(headers, rows, empty = 'Nothing here yet.') {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((text) => h('th', { scope: 'col' }, text)),
      ),
    ),
    h('tbody', {}, rows),
  );
}

/** @param {'config' | 'builtin' | null | undefined} managedBy */
export const owner = (managedBy) =>
  managedBy
    ? h(
        'span',
        {
          class: 'badge',
          title: managedBy === 'config' ? 'Owned by the declarative file' : 'Built into Lock',
        },
        managedBy,
      )
    : '';

/** @param {string[]} items */
export const codes = (items) => items.flatMap((item, i) => [i > 0 ? ' ' : '', h('code', {}, item)]);

/** A live region for a page's status and error messages. */
export const liveRegion = () => h('div', { 'aria-live': 'polite' });
