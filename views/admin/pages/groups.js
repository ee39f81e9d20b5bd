// @ts-check
// Groups of local users: list, create, delete.
import { api } from '../api.js';
import { field, formValue, h, owner, showError } from '../dom.js';
import { dataTable, rowButton } from '../lists.js';
import { confirmDelete, flash, route } from '../navigation.js';

/**
 * @param {import('../openapi').Operations['listGroups']['response']['items']} groups
 * @param {HTMLElement} region
 */
export function groupTable(groups, region) {
  if (groups.length === 0) return h('p', { class: 'empty' }, 'No groups yet.');
  return dataTable(
    [
      { label: 'Name', cell: (g) => [g.name, ' ', owner(g.managedBy)] },
      { label: 'Members', cell: (g) => String(g.memberCount) },
      {
        label: 'Actions',
        kind: 'actions',
        cell: (g) =>
          !g.managedBy &&
          rowButton(
            'Delete',
            `group ${g.name}`,
            () =>
              confirmDelete(
                'getGroup',
                'deleteGroup',
                { name: g.name },
                `group ${g.name}`,
                region,
                `Its ${g.memberCount} members leave it, and from their next sign-in or token refresh lose the roles its role mappings gave them.`,
              ),
            { danger: true },
          ),
      },
    ],
    groups,
    'Groups',
  );
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
