// @ts-check
// Role mappings: an upstream group (of one connector, or of any: `*`) → Lock roles.
import { api } from '../api.js';
import { field, formValue, h, list, owner, showError, table } from '../dom.js';
import { confirmDelete, flash, route } from '../navigation.js';

/** @typedef {import('../openapi').RoleMapping} RoleMapping */
/** @typedef {import('../openapi').Role} Role */
/** @typedef {import('../openapi').Operations['listConnectors']['response']['items']} Connectors */

/**
 * @param {RoleMapping[]} mappings
 * @param {HTMLElement} region
 */
export function mappingTable(mappings, region) {
  const rows = mappings.map((m) =>
    h(
      'tr',
      {},
      h('td', {}, h('code', {}, m.connector)),
      h('td', {}, m.group),
      h('td', {}, m.roles.join(', '), ' ', owner(m.managedBy)),
      h(
        'td',
        { class: 'actions' },
        !m.managedBy &&
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: () =>
                confirmDelete(
                  'getRoleMapping',
                  'deleteRoleMapping',
                  { connector: m.connector, group: m.group },
                  `mapping of ${m.group}`,
                  region,
                ),
            },
            'Delete',
          ),
      ),
    ),
  );
  return table(['Connector', 'Group', 'Roles', ''], rows, 'No role mappings yet.');
}

/**
 * @param {Connectors} connectors
 * @param {Role[]} roles
 * @param {HTMLElement} region
 */
export function mappingForm(connectors, roles, region) {
  const form = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-label': 'New role mapping' },
    h('h2', {}, 'New role mapping'),
    h(
      'div',
      { class: 'grid' },
      field('Connector', 'connector', {
        type: 'select',
        path: 'connector',
        value: '*',
        options: [
          ['*', 'Any connector (*)'],
          ...connectors.map((c) => /** @type {[string, string]} */ ([c.id, `${c.name} (${c.id})`])),
        ],
      }),
      field('Upstream group', 'group', {
        path: 'group',
        required: true,
        hint: 'The group name as the connector reports it',
      }),
      field('Roles', 'roles', {
        path: 'roles',
        hint: `Comma-separated: ${roles.map((r) => r.name).join(', ')}`,
      }),
    ),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create mapping')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      connector: formValue(form, 'connector'),
      group: formValue(form, 'group'),
      roles: list(formValue(form, 'roles')),
    };
    const created = await api('createRoleMapping', { body });
    if (!created.ok) return showError(region, form, created);
    flash(`Group ${created.data.group} now maps to ${created.data.roles.join(', ')}.`);
    await route();
  });
  return form;
}
