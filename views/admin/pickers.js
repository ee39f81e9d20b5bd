// @ts-check
// Pickers: lists the admin picks from (grant types, roles, APIs, connectors) instead of typing them
// comma-separated, and an editable list of URLs (one field per item). Each item answers to the
// API's problem path of its place in the list sent (`grantTypes[1]`, `redirectUris[0]`), set when
// the values are read, so an error marks the item it is about.
import { h } from './dom.js';

let pickerCounter = 0;

/**
 * A group of checkboxes, one per choice; `selected` are checked. Choices the entity holds that are
 * not on offer (a role deleted since) are shown too, so that saving does not drop them silently.
 * @param {string} legend
 * @param {string} name
 * @param {Array<[string, string]>} choices value and label
 * @param {string[]} selected
 * `selectedFirst` keeps the order of `selected` (where order means something, such as an API's
 * roles) and lists the other choices after them.
 * @param {{ path?: string, hint?: string, empty?: string, selectedFirst?: boolean }} [options]
 */
export function checkboxPicker(
  legend,
  name,
  choices,
  selected,
  { path = name, hint, empty, selectedFirst = false } = {},
) {
  const id = `p${++pickerCounter}`;
  const labels = new Map(choices);
  const missing = selected.filter((value) => !labels.has(value));
  /** @type {Array<[string, string]>} */
  const all = selectedFirst
    ? [
        ...selected.map((v) => /** @type {[string, string]} */ ([v, labels.get(v) ?? v])),
        ...choices.filter(([value]) => !selected.includes(value)),
      ]
    : [...choices, ...missing.map((v) => /** @type {[string, string]} */ ([v, v]))];
  return h(
    'fieldset',
    { class: 'picker', 'data-picker': name, 'data-path': path, 'aria-describedby': hint && `${id}-hint` },
    h('legend', {}, legend),
    all.length === 0 && h('p', { class: 'muted' }, empty ?? 'Nothing to pick from yet.'),
    h(
      'div',
      { class: 'picker-choices' },
      all.map(([value, label], index) =>
        h(
          'label',
          { class: 'picker-choice', for: `${id}-${index}` },
          h('input', {
            type: 'checkbox',
            id: `${id}-${index}`,
            name,
            value,
            checked: selected.includes(value),
          }),
          ' ',
          value === label ? h('code', {}, value) : h('span', {}, label, ' ', h('code', {}, value)),
        ),
      ),
    ),
    hint && h('span', { class: 'hint', id: `${id}-hint` }, hint),
  );
}

/**
 * The values checked in the picker `name`, in its order; each checked box answers to `path[i]`.
 * @param {HTMLFormElement} form
 * @param {string} name
 * @returns {string[]}
 */
export function picked(form, name) {
  const picker = form.querySelector(`[data-picker="${CSS.escape(name)}"]`);
  const path = picker?.getAttribute('data-path') ?? name;
  /** @type {string[]} */
  const values = [];
  for (const box of /** @type {NodeListOf<HTMLInputElement>} */ (
    picker?.querySelectorAll('input[type=checkbox]') ?? []
  )) {
    if (box.checked) {
      box.setAttribute('data-path', `${path}[${values.length}]`);
      values.push(box.value);
    } else box.removeAttribute('data-path');
  }
  return values;
}

/**
 * An editable list of URLs: one field per item, "Add" for another, "Remove" beside each.
 * @param {string} legend
 * @param {string} name
 * @param {string[]} values
 * @param {{ path?: string, hint?: string, placeholder?: string, addLabel?: string }} [options]
 */
export function urlList(legend, name, values, { path = name, hint, placeholder, addLabel = 'Add' } = {}) {
  const id = `p${++pickerCounter}`;
  const items = h('ol', { class: 'url-list' });
  /** @param {string} value */
  const addItem = (value) => {
    const number = items.children.length + 1;
    const input = h('input', {
      type: 'url',
      name,
      value,
      placeholder,
      autocomplete: 'off',
      'aria-label': `${legend} ${number}`,
    });
    const item = h(
      'li',
      {},
      input,
      h(
        'button',
        {
          type: 'button',
          class: 'small',
          'aria-label': `Remove ${legend.toLowerCase()} ${number}`,
          onclick: () => {
            item.remove();
            renumber();
          },
        },
        'Remove',
      ),
    );
    items.append(item);
    return input;
  };
  const renumber = () => {
    [...items.children].forEach((item, index) => {
      item.querySelector('input')?.setAttribute('aria-label', `${legend} ${index + 1}`);
      item.querySelector('button')?.setAttribute('aria-label', `Remove ${legend.toLowerCase()} ${index + 1}`);
    });
  };
  for (const value of values) addItem(value);
  return h(
    'fieldset',
    {
      class: 'picker wide',
      'data-url-list': name,
      'data-path': path,
      'aria-describedby': hint && `${id}-hint`,
    },
    h('legend', {}, legend),
    items,
    h('button', { type: 'button', class: 'small', onclick: () => addItem('').focus() }, `${addLabel}`),
    hint && h('span', { class: 'hint', id: `${id}-hint` }, hint),
  );
}

/**
 * The URLs of the list `name`, empty fields left out; each field sent answers to `path[i]`.
 * @param {HTMLFormElement} form
 * @param {string} name
 * @returns {string[]}
 */
export function urls(form, name) {
  const list = form.querySelector(`[data-url-list="${CSS.escape(name)}"]`);
  const path = list?.getAttribute('data-path') ?? name;
  /** @type {string[]} */
  const values = [];
  for (const input of /** @type {NodeListOf<HTMLInputElement>} */ (list?.querySelectorAll('input') ?? [])) {
    const value = input.value.trim();
    if (value) {
      input.setAttribute('data-path', `${path}[${values.length}]`);
      values.push(value);
    } else input.removeAttribute('data-path');
  }
  return values;
}
