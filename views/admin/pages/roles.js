// @ts-check
// Roles & mappings: roles in priority order (create, delete) and the role mappings.
import { api, expectOk } from '../api.js';
import { field, formValue, h, owner, show, showError, table } from '../dom.js';
import { confirmDelete, flash, route, setRegion } from '../navigation.js';
import { mappingForm, mappingTable } from './role-mappings.js';

export async function rolesPage() {
  const [roles, mappings, connectors] = await Promise.all([
    api('listRoles'),
    api('listRoleMappings'),
    api('listConnectors'),
  ]);
  const roleItems = expectOk(roles).items;
  const region = h('div', { 'aria-live': 'polite' });
  const roleRows = roleItems.map((r) =>
    h(
      'tr',
      {},
      h('td', {}, String(r.position)),
      h('td', {}, h('code', {}, r.name), ' ', owner(r.managedBy)),
      h('td', {}, r.description ?? ''),
      h(
        'td',
        { class: 'actions' },
        !r.managedBy &&
          r.name !== 'lock_admin' &&
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: () =>
                confirmDelete('getRole', 'deleteRole', { name: r.name }, `role ${r.name}`, region),
            },
            'Delete',
          ),
      ),
    ),
  );
  const roleForm = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-label': 'New role' },
    h('h2', {}, 'New role'),
    h(
      'div',
      { class: 'grid' },
      field('Role name', 'name', { path: 'name', required: true }),
      field('Description', 'description', { path: 'description' }),
    ),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create role')),
  );
  roleForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    /** @type {import('../openapi').Operations['createRole']['body']} */
    const body = { name: formValue(roleForm, 'name') };
    if (formValue(roleForm, 'description')) body.description = formValue(roleForm, 'description');
    const created = await api('createRole', { body });
    if (!created.ok) return showError(region, roleForm, created);
    flash(`Role ${created.data.name} created.`);
    await route();
  });
  show(
    h('h1', {}, 'Roles & mappings'),
    region,
    h('h2', {}, 'Roles (in priority order)'),
    table(['#', 'Name', 'Description', ''], roleRows),
    h('h2', {}, 'Role mappings'),
    mappingTable(expectOk(mappings).items, region),
    mappingForm(expectOk(connectors).items, roleItems, region),
    roleForm,
  );
  setRegion(region);
}
