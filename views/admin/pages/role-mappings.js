// @ts-check
// Role mappings: an upstream group (of one connector, or of any: `*`) → Lock roles. The list and a
// new mapping (on the roles page), one mapping's page (#/roles/mapping/<connector>/<group>) to
// change its roles or delete it. Connectors and roles are picked from the API.
import { api } from '../api.js';
import { allItems, roleChoices, withHeld } from '../choices.js';
import { field, formList, formValue, h, owner, show, showError } from '../dom.js';
import { pagedList } from '../lists.js';
import { flash, go, route, setRegion } from '../navigation.js';
import { backLink, deleteEntity, hashOf, notFoundPage, readOnlyNote, saveFailed } from './entity-detail.js';

/** @typedef {import('../openapi').RoleMapping} RoleMapping */
/** @typedef {import('../openapi').Role} Role */
/** @typedef {import('../openapi').Operations['listConnectors']['response']['items']} Connectors */

/** @param {RoleMapping} m */
const mappingHash = (m) => hashOf('roles', 'mapping', m.connector, m.group);

/** The role mappings, a page at a time, each opening its own page. */
export function mappingList() {
  return pagedList({
    caption: 'Role mappings',
    searchLabel: 'Search role mappings',
    load: ({ q, cursor, limit }) =>
      api('listRoleMappings', { query: { limit, ...(q && { q }), ...(cursor && { cursor }) } }),
    empty: 'No role mappings yet.',
    noMatch: (q) => `No role mapping matches “${q}”.`,
    /** @type {Array<import('../lists.js').Column<RoleMapping>>} */
    columns: [
      { label: 'Connector', cell: (m) => h('code', {}, m.connector === '*' ? '* (any)' : m.connector) },
      { label: 'Group', kind: 'id', cell: (m) => h('a', { href: mappingHash(m) }, m.group) },
      { label: 'Roles', cell: (m) => [m.roles.join(', '), ' ', owner(m.managedBy)] },
      {
        label: 'Actions',
        kind: 'actions',
        cell: (m) =>
          h(
            'a',
            { class: 'button', href: mappingHash(m), 'aria-label': `Open the mapping of ${m.group}` },
            m.managedBy ? 'View' : 'Edit',
          ),
      },
    ],
  });
}

/** The form of a new mapping: a connector and a local group or roles picked from the API. */
export async function mappingForm() {
  const [connectors, roles, groups] = await Promise.all([
    allItems('listConnectors'),
    roleChoices(),
    allItems('listGroups'),
  ]);
  const groupList = h(
    'datalist',
    { id: 'local-groups' },
    groups.map((g) => h('option', { value: g.name })),
  );
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
        hint: 'As the connector reports it (an LDAP DN, a SAML attribute value); Lock’s own groups are suggested',
      }),
      field('Roles', 'roles', { type: 'picks', value: [], options: roles, path: 'roles', wide: true }),
    ),
    groupList,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create mapping')),
  );
  /** @type {HTMLInputElement} */ (form.elements.namedItem('group')).setAttribute('list', 'local-groups');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      connector: formValue(form, 'connector'),
      group: formValue(form, 'group'),
      roles: formList(form, 'roles'),
    };
    const created = await api('createRoleMapping', { body });
    if (!created.ok) return showError(form, form, created);
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
    roleChoices(),
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
        field('Roles', 'roles', {
          type: 'picks',
          value: mapping.roles,
          options: withHeld(roles, mapping.roles),
          path: 'roles',
          wide: true,
        }),
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
      body: { connector, group, roles: formList(form, 'roles') },
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
