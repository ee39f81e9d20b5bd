// @ts-check
// Groups of local users: list, create, delete.
import { api } from '../api.js';
import { field, formValue, h, owner, showError, table } from '../dom.js';
import { confirmDelete, flash, route } from '../navigation.js';

/**
 * @param {import('../openapi').Operations['listGroups']['response']['items']} groups
 * @param {HTMLElement} region
 */
export function groupTable(groups, region) {
  const rows = groups.map((g) =>
    h(
      'tr',
      {},
      h('td', {}, g.name, ' ', owner(g.managedBy)),
      h('td', {}, String(g.memberCount)),
      h(
        'td',
        { class: 'actions' },
        !g.managedBy &&
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: () =>
                confirmDelete('getGroup', 'deleteGroup', { name: g.name }, `group ${g.name}`, region),
            },
            'Delete',
          ),
      ),
    ),
  );
  return table(['Name', 'Members', ''], rows, 'No groups yet.');
}

/** @param {HTMLElement} region */
export function groupForm(region) {
  const form = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-label': 'New group' },
    h('h2', {}, 'New group'),
    h('div', { class: 'grid' }, field('Group name', 'name', { path: 'name', required: true })),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create group')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const created = await api('createGroup', { body: { name: formValue(form, 'name') } });
    if (!created.ok) return showError(region, form, created);
    flash(`Group ${created.data.name} created.`);
    await route();
  });
  return form;
}
