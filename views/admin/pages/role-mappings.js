// @ts-check
// Role mappings: an upstream group (of one connector, or of any: `*`) → Lock roles. The list and a
// new mapping (on the roles page), one mapping's page (#/roles/mapping/<connector>/<group>) to
// change its roles or delete it. Connectors and roles are picked from the API.
import { api } from '../api.js';
import { allItems, roleChoices, withHeld } from '../choices.js';
import { field, formList, formValue, h, owner, showError } from '../dom.js';
import { flash, route } from '../navigation.js';
import { detailForm, entityList, hashOf, notFoundPage, openLink, showDetail } from './entity-detail.js';

/** @typedef {import('../openapi').RoleMapping} RoleMapping */
/** @typedef {import('../openapi').Role} Role */
/** @typedef {import('../openapi').Operations['listConnectors']['response']['items']} Connectors */

/** @param {RoleMapping} m */
const mappingHash = (m) => hashOf('roles', 'mapping', m.connector, m.group);

/** The role mappings, a page at a time, each opening its own page. */
export function mappingList() {
  return entityList({
    section: 'roles',
    operation: 'listRoleMappings',
    caption: 'Role mappings',
    noun: 'role mapping',
    /** @type {import('./entity-detail.js').EntityListOptions<RoleMapping>['columns']} */
    columns: [
      { label: 'Connector', cell: (m) => h('code', {}, m.connector === '*' ? '* (any)' : m.connector) },
      { label: 'Group', kind: 'id', cell: (m) => h('a', { href: mappingHash(m) }, m.group) },
      { label: 'Roles', cell: (m) => [m.roles.join(', '), ' ', owner(m.managedBy)] },
      {
        label: 'Actions',
        kind: 'actions',
        cell: (m) => openLink(mappingHash(m), `the mapping of ${m.group}`, m.managedBy),
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
 * @param {import('../navigation.js').Drawing} draw
 * @param {string} connector
 * @param {string} group
 */
export async function mappingDetail(draw, connector, group) {
  const [result, roles] = await Promise.all([
    api('getRoleMapping', { params: { connector, group } }),
    roleChoices(),
  ]);
  if (!result.ok) return notFoundPage(draw, `Mapping of ${group}`, result, '#/roles', 'Back to roles');
  const mapping = result.data;
  const what = `the mapping of ${group}`;
  const editable = !mapping.managedBy;
  const region = h('div', { 'aria-live': 'polite' });
  const form = detailForm({
    label: `Roles of group ${group}`,
    fields: h(
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
    editable,
    region,
    what,
    save: (form) =>
      api('replaceRoleMapping', {
        params: { connector, group },
        body: { connector, group, roles: formList(form, 'roles') },
        etag: result.etag,
      }),
    remove: {
      operation: 'deleteRoleMapping',
      params: { connector, group },
      consequences: `People in ${group} no longer get ${mapping.roles.join(', ') || 'its roles'} from it at their next sign-in or token refresh.`,
      etag: () => result.etag,
      back: '#/roles',
      label: 'Delete mapping',
    },
  });
  showDetail(
    draw,
    {
      back: '#/roles',
      backLabel: 'Roles & mappings',
      name: group,
      title: `Mapping of ${group}`,
      managedBy: mapping.managedBy,
      region,
    },
    h(
      'p',
      { class: 'muted' },
      connector === '*' ? 'From any connector.' : ['From connector ', h('code', {}, connector), '.'],
    ),
    form,
  );
}
