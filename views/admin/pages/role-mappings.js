// @ts-check
// Role mappings: an upstream group (of one connector, or of any: `*`) → Lock roles. The list and a
// new mapping (on the roles page), one mapping's page (#/roles/mapping/<connector>/<group>) to
// change its roles or delete it. Connectors and roles are picked from the API.
import { api, expectOk } from '../api.js';
import { field, formValue, h, owner, show, table } from '../dom.js';
import { flash, go, route, setRegion } from '../navigation.js';
import { checkboxPicker, picked } from '../pickers.js';
import {
  backLink,
  deleteEntity,
  hashOf,
  notFoundPage,
  readOnlyNote,
  saveFailed,
  showProblems,
} from './entity-detail.js';

/** @typedef {import('../openapi').RoleMapping} RoleMapping */
/** @typedef {import('../openapi').Role} Role */
/** @typedef {import('../openapi').Operations['listConnectors']['response']['items']} Connectors */

/** @param {Role[]} roles */
const roleChoices = (roles) =>
  roles.map((role) => /** @type {[string, string]} */ ([role.name, role.description ?? role.name]));

/** @param {RoleMapping} m */
const mappingHash = (m) => hashOf('roles', 'mapping', m.connector, m.group);

/** @param {RoleMapping[]} mappings */
export function mappingTable(mappings) {
  const rows = mappings.map((m) =>
    h(
      'tr',
      {},
      h('td', { 'data-label': 'Connector' }, h('code', {}, m.connector === '*' ? '* (any)' : m.connector)),
      h('td', { 'data-label': 'Group' }, h('a', { href: mappingHash(m) }, m.group)),
      h('td', { 'data-label': 'Roles' }, m.roles.join(', '), ' ', owner(m.managedBy)),
      h(
        'td',
        { class: 'actions' },
        h(
          'a',
          { class: 'button', href: mappingHash(m), 'aria-label': `Open the mapping of ${m.group}` },
          m.managedBy ? 'View' : 'Edit',
        ),
      ),
    ),
  );
  return table(['Connector', 'Group', 'Roles', ''], rows, 'No role mappings yet.');
}

/**
 * @param {Connectors} connectors
 * @param {Role[]} roles
 */
export function mappingForm(connectors, roles) {
  const region = h('div', { 'aria-live': 'polite' });
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
        hint: 'The group name as the connector reports it (an LDAP DN, a SAML attribute value)',
      }),
      h(
        'div',
        { class: 'field wide' },
        checkboxPicker('Roles', 'roles', roleChoices(roles), [], { path: 'roles' }),
      ),
    ),
    region,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create mapping')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      connector: formValue(form, 'connector'),
      group: formValue(form, 'group'),
      roles: picked(form, 'roles'),
    };
    const created = await api('createRoleMapping', { body });
    if (!created.ok) return showProblems(region, form, created);
    flash(`Group ${created.data.group} now maps to ${created.data.roles.join(', ')}.`);
    await route();
  });
  return form;
}

/**
 * @param {string} connector
 * @param {string} group
 */
export async function mappingDetail(connector, group) {
  const [result, roles] = await Promise.all([
    api('getRoleMapping', { params: { connector, group } }),
    api('listRoles'),
  ]);
  if (!result.ok) return notFoundPage(`Mapping of ${group}`, result, '#/roles', 'Back to roles');
  const mapping = result.data;
  const what = `the mapping of ${group}`;
  const editable = !mapping.managedBy;
  const region = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-label': `Roles of group ${group}` },
    h(
      'fieldset',
      { class: 'plain', disabled: !editable },
      h(
        'div',
        { class: 'grid' },
        h(
          'div',
          { class: 'field wide' },
          checkboxPicker('Roles', 'roles', roleChoices(expectOk(roles).items), mapping.roles, {
            path: 'roles',
          }),
        ),
      ),
    ),
    region,
    editable &&
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'submit', class: 'primary' }, 'Save changes'),
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: () =>
              deleteEntity(
                'deleteRoleMapping',
                { connector, group },
                {
                  what,
                  consequences: `People in ${group} no longer get ${mapping.roles.join(', ') || 'its roles'} from it at their next sign-in or token refresh.`,
                  etag: result.etag,
                  region,
                  back: '#/roles',
                },
              ),
          },
          'Delete mapping',
        ),
      ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const saved = await api('replaceRoleMapping', {
      params: { connector, group },
      body: { connector, group, roles: picked(form, 'roles') },
      etag: result.etag,
    });
    if (!saved.ok) return saveFailed(region, form, saved, what);
    flash(`Saved ${what}.`);
    go(mappingHash(saved.data));
  });
  show(
    backLink('#/roles', 'Roles & mappings'),
    h('h1', {}, `Mapping of ${group}`, ' ', owner(mapping.managedBy)),
    h(
      'p',
      { class: 'muted' },
      connector === '*' ? 'From any connector.' : ['From connector ', h('code', {}, connector), '.'],
    ),
    readOnlyNote(mapping.managedBy),
    form,
  );
  setRegion(region);
}
