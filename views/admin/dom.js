// @ts-check
// DOM helpers of the admin console: elements are built with DOM APIs only (never innerHTML), so
// data from the API is never parsed as HTML.

import { listItemOf, pathsToTry, plainMessage } from './problems.js';

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
 * @property {string} [type] text, password, email, url, number, search, checkbox, select, textarea,
 *   `list` (one input per item: each item is marked on its own, `redirectUris[1]`) or `picks`
 *   (checkboxes from `options`: the chosen values, in order, are `path[0]`, `path[1]`…)
 * @property {string | boolean | string[] | null} [value]
 * @property {string} [hint]
 * @property {string} [path] the API's problem path this field answers to
 * @property {boolean} [wide]
 * @property {boolean} [required]
 * @property {string} [placeholder]
 * @property {Array<[string, string]>} [options]
 * @property {number} [rows]
 * @property {string} [autocomplete]
 */

/**
 * A labelled input; `path` ties it to the API's problem paths (showError marks it).
 * @param {string} label
 * @param {string} name
 * @param {FieldOptions} [options]
 */
export function field(label, name, options = {}) {
  const { type = 'text', value = '', hint, path, wide, required, placeholder, rows } = options;
  const id = `f${++fieldCounter}`;
  const hintId = hint ? `${id}-hint` : undefined;
  const hintEl = hint && h('span', { class: 'hint', id: hintId }, hint);
  if (type === 'list') return listField(id, label, name, options, hintEl);
  if (type === 'picks') return picksField(id, label, name, options, hintEl);
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
      hintEl,
    );
  }
  if (type === 'select') {
    control = h(
      'select',
      { id, name, 'data-path': path, 'aria-describedby': hintId },
      (options.options ?? []).map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
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
      value: typeof value === 'string' ? value : '',
      'data-path': path,
      required,
      placeholder,
      'aria-describedby': hintId,
      autocomplete: options.autocomplete ?? (type === 'password' ? 'new-password' : 'off'),
    });
  }
  const shown = type === 'password' ? revealable(/** @type {HTMLInputElement} */ (control)) : control;
  return h('div', { class: `field${wide ? ' wide' : ''}` }, h('label', { for: id }, label), shown, hintEl);
}

/**
 * A password input with a Show/Hide button beside it that switches its type (aria-pressed says
 * which); a submitted form hides it again.
 * @param {HTMLInputElement} input
 */
function revealable(input) {
  const toggle = h('button', { type: 'button', class: 'reveal-toggle', 'aria-controls': input.id });
  const set = (/** @type {boolean} */ shown) => {
    input.type = shown ? 'text' : 'password';
    toggle.textContent = shown ? 'Hide' : 'Show';
    toggle.setAttribute('aria-pressed', String(shown));
  };
  set(false);
  toggle.addEventListener('click', () => set(input.type === 'password'));
  queueMicrotask(() => input.form?.addEventListener('submit', () => set(false)));
  return h('div', { class: 'reveal' }, input, toggle);
}

/**
 * One text input per item, with Add and Remove: a problem at `redirectUris[1]` marks the second.
 * @param {string} id @param {string} label @param {string} name @param {FieldOptions} options
 * @param {HTMLElement | undefined | ''} hintEl
 */
function listField(id, label, name, { value, path, placeholder, hint }, hintEl) {
  const items = h('ul', { class: 'list-items' });
  const addItem = (/** @type {string} */ text) => {
    const input = h('input', {
      type: 'text',
      name,
      value: text,
      placeholder,
      autocomplete: 'off',
      'aria-describedby': hint ? `${id}-hint` : undefined,
    });
    const item = h(
      'li',
      { class: 'list-item' },
      input,
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            item.remove();
            numberItems();
            /** @type {HTMLElement} */ (items.querySelector('input') ?? add).focus();
          },
        },
        'Remove',
      ),
    );
    items.append(item);
    numberItems();
    return input;
  };
  // Labels say which item: "Redirect URIs, item 2"; Remove buttons name the item they remove.
  const numberItems = () =>
    items.querySelectorAll('li').forEach((item, i) => {
      item.querySelector('input')?.setAttribute('aria-label', `${label}, item ${i + 1}`);
      item.querySelector('button')?.setAttribute('aria-label', `Remove ${label}, item ${i + 1}`);
    });
  const add = h('button', { type: 'button', onclick: () => addItem('').focus() }, `Add`);
  add.setAttribute('aria-label', `Add to ${label}`);
  for (const text of Array.isArray(value) ? value : []) addItem(text);
  return h(
    'fieldset',
    { class: 'field wide list-field', 'data-list-path': path, 'data-path': path, 'data-name': name, id },
    h('legend', {}, label),
    hintEl,
    items,
    h('div', {}, add),
  );
}

/**
 * Checkboxes to pick values from the API's choices (never a typed list).
 * @param {string} id @param {string} label @param {string} name @param {FieldOptions} options
 * @param {HTMLElement | undefined | ''} hintEl
 */
function picksField(id, label, name, { value, path, options: choices = [], wide }, hintEl) {
  const chosen = new Set(Array.isArray(value) ? value : []);
  return h(
    'fieldset',
    {
      class: `field picks${wide ? ' wide' : ''}`,
      'data-list-path': path,
      'data-path': path,
      'data-name': name,
      id,
    },
    h('legend', {}, label),
    hintEl,
    choices.length === 0
      ? h('span', { class: 'muted' }, 'None to choose from yet.')
      : h(
          'div',
          { class: 'pick-options' },
          choices.map(([v, text], i) =>
            h(
              'label',
              { class: 'pick' },
              h('input', { type: 'checkbox', name, value: v, checked: chosen.has(v), id: `${id}-${i}` }),
              ' ',
              text,
            ),
          ),
        ),
  );
}

/**
 * The items of a `list` field (blank ones left out) or the chosen values of a `picks` field, in
 * order. Each sent item gets its problem path (`path[i]`), so the API's answer marks that item.
 * @param {HTMLFormElement} form
 * @param {string} name
 * @returns {string[]}
 */
export function formList(form, name) {
  const container = form.querySelector(`[data-name="${CSS.escape(name)}"]`);
  const path = container?.getAttribute('data-list-path') ?? '';
  const picks = container?.classList.contains('picks') ?? false;
  /** @type {string[]} */
  const values = [];
  for (const input of /** @type {NodeListOf<HTMLInputElement>} */ (
    container?.querySelectorAll(`input[name="${CSS.escape(name)}"]`) ?? []
  )) {
    input.removeAttribute('data-path');
    const text = picks ? (input.checked ? input.value : '') : input.value.trim();
    if (!text) continue;
    if (path) input.setAttribute('data-path', `${path}[${values.length}]`);
    values.push(text);
  }
  return values;
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
 * Shows an API error where the person is. With a form: each field at fault is marked
 * (`aria-invalid`, its message beside it and linked by aria-describedby, list items too), a summary
 * sits above the form's buttons, and focus moves to the first field at fault. Without one (a row
 * button): the message goes to `region`.
 * @param {HTMLElement} region
 * @param {HTMLFormElement | null} form
 * @param {{ status: number, data: ApiError | null }} result
 */
export function showError(region, form, result) {
  if (form) clearFormErrors(form);
  const problems = result.data?.problems ?? [];
  const heading = result.data?.error ?? `The request failed (${result.status}).`;
  /** @type {HTMLElement | null} */
  let first = null;
  const summary = problems.map((problem) => {
    const target = form ? markProblem(form, problem) : null;
    if (target && !first) first = target.control;
    return h(
      'li',
      {},
      target?.label ? `${target.label}: ` : '',
      plainMessage(problem.message),
      ' ',
      h('code', { class: 'path' }, problem.path || '(body)'),
    );
  });
  const alert = h(
    'div',
    { class: 'alert error', role: 'alert' },
    h('strong', {}, problems.length > 0 ? fixHeading(problems.length) : heading),
    problems.length > 0 && h('p', { class: 'detail' }, heading),
    summary.length > 0 && h('ul', {}, summary),
  );
  if (form) {
    alert.classList.add('form-errors');
    const buttons = form.querySelector(':scope > .buttons');
    if (buttons) buttons.before(alert);
    else form.append(alert);
    if (region !== form) region.replaceChildren();
    if (!first) alert.setAttribute('tabindex', '-1');
    const target = /** @type {HTMLElement} */ (first ?? alert);
    target.focus();
    target.scrollIntoView({ block: 'center' });
  } else region.replaceChildren(alert);
}

/** @param {number} count */
const fixHeading = (count) =>
  count === 1 ? 'Please correct this field.' : `Please correct these ${count} fields.`;

/** Takes away the marks and messages of an earlier showError. @param {HTMLFormElement} form */
export function clearFormErrors(form) {
  for (const el of form.querySelectorAll('.field-error, .form-errors')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    const kept = el.getAttribute('data-describedby');
    if (kept === null) continue;
    if (kept) el.setAttribute('aria-describedby', kept);
    else el.removeAttribute('aria-describedby');
    el.removeAttribute('data-describedby');
  }
}

/**
 * Marks the control a problem names (or, failing that, the nearest field above its path) and puts
 * the message beside it.
 * @param {HTMLFormElement} form
 * @param {{ path: string, message: string }} problem
 * @returns {{ control: HTMLElement, label: string } | null}
 */
function markProblem(form, problem) {
  for (const path of pathsToTry(problem.path)) {
    const control = /** @type {HTMLElement | null} */ (
      form.querySelector(`[data-path="${CSS.escape(path)}"]`)
    );
    if (!control) continue;
    const item = path === problem.path ? null : listItemOf(problem.path);
    // A problem about a list item that has no control of its own (a textarea) names the item.
    const prefix = item && item.list === path ? `Item ${item.index + 1}: ` : '';
    const focusable = control.matches('fieldset')
      ? (control.querySelector('input, select, textarea') ?? control)
      : control;
    const id = `e${++fieldCounter}`;
    const message = h('span', { class: 'field-error', id }, prefix, plainMessage(problem.message));
    // Beside the control: after a list item's input, at the end of its field, or under a group's legend.
    const holder = control.closest('.list-item') ?? control.closest('.field') ?? control;
    const legend = holder === control ? control.querySelector(':scope > legend') : null;
    if (legend) legend.after(message);
    else holder.append(message);
    control.setAttribute('aria-invalid', 'true');
    if (!control.hasAttribute('data-describedby'))
      control.setAttribute('data-describedby', control.getAttribute('aria-describedby') ?? '');
    control.setAttribute(
      'aria-describedby',
      [control.getAttribute('aria-describedby'), id].filter(Boolean).join(' '),
    );
    return { control: /** @type {HTMLElement} */ (focusable), label: labelOf(form, control) };
  }
  return null;
}

/** @param {HTMLFormElement} form @param {HTMLElement} control */
function labelOf(form, control) {
  if (control.matches('fieldset')) return control.querySelector('legend')?.textContent ?? '';
  const own = control.getAttribute('aria-label');
  if (own) return own;
  return control.id ? (form.querySelector(`label[for="${CSS.escape(control.id)}"]`)?.textContent ?? '') : '';
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
