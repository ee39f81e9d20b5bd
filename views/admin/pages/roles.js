// @ts-check
// Roles & mappings (#/roles): roles in priority order — moved up or down, created, and each one's
// page to edit or delete it (#/roles/role/<name>) — and the role mappings (role-mappings.js).
import { api } from '../api.js';
import { allItems } from '../choices.js';
import { field, formValue, h, owner, showError } from '../dom.js';
import { dataTable } from '../lists.js';
import { flash, flashNow, route } from '../navigation.js';
import { detailForm, hashOf, notFoundPage, openLink, showDetail, subPath } from './entity-detail.js';
import { mappingDetail, mappingForm, mappingList } from './role-mappings.js';

/** @typedef {import('../openapi').Role} Role */

/** @param {import('../navigation.js').Drawing} draw */
export async function rolesPage(draw) {
  const [kind, ...rest] = subPath();
  if (kind === 'role' && rest[0] !== undefined) return roleDetail(draw, rest[0]);
  if (kind === 'mapping' && rest.length === 2) return mappingDetail(draw, rest[0] ?? '', rest[1] ?? '');
  return roleList(draw);
}

/** @param {import('../navigation.js').Drawing} draw */
async function roleList(draw) {
  // Every role, not a page of them: their order is what this list shows and changes.
  const [roleItems, newMapping] = await Promise.all([allItems('listRoles'), mappingForm()]);
  const region = h('div', { 'aria-live': 'polite' });
  /**
   * Moves a role one place: PUT with the place it should take (the API closes up the others).
   * @param {Role} role
   * @param {number} to
   */
  const move = async (role, to) => {
    const current = await api('getRole', { params: { name: role.name } });
    if (!current.ok) return showError(region, null, current);
    const { managedBy: _, ...body } = current.data;
    const moved = await api('replaceRole', {
      params: { name: role.name },
      body: { ...body, position: to },
      etag: current.etag,
    });
    if (!moved.ok) return showError(region, null, moved);
    await route();
    flashNow(`Moved ${role.name} to place ${to + 1}.`);
    const direction = to < role.position ? 'up' : 'down';
    /** @type {HTMLElement | null} */ (
      document.querySelector(`[data-move="${CSS.escape(`${role.name}:${direction}`)}"]`)
    )?.focus();
  };
  /** @param {Role} r @param {'up' | 'down'} direction */
  const moveButton = (r, direction) =>
    h(
      'button',
      {
        type: 'button',
        'data-move': `${r.name}:${direction}`,
        'aria-label': `Move ${r.name} ${direction}`,
        onclick: () => move(r, r.position + (direction === 'up' ? -1 : 1)),
      },
      direction === 'up' ? '↑ Up' : '↓ Down',
    );
  const roleTable = dataTable(
    [
      { label: 'Place', cell: (r) => String(r.position + 1) },
      {
        label: 'Name',
        cell: (r) => [
          h('a', { href: hashOf('roles', 'role', r.name) }, h('code', {}, r.name)),
          ' ',
          owner(r.managedBy),
        ],
      },
      { label: 'Description', cell: (r) => r.description ?? '' },
      {
        label: 'Actions',
        kind: 'actions',
        cell: (r) => [
          !r.managedBy && r.position > 0 && moveButton(r, 'up'),
          !r.managedBy && r.position < roleItems.length - 1 && moveButton(r, 'down'),
          openLink(hashOf('roles', 'role', r.name), `role ${r.name}`, r.managedBy),
        ],
      },
    ],
    roleItems,
    'Roles, in priority order',
  );
  const mappings = mappingList();
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
    if (!created.ok) return showError(roleForm, roleForm, created);
    flash(`Role ${created.data.name} created.`);
    await route();
  });
  draw.show(
    h('h1', {}, 'Roles & mappings'),
    region,
    h('h2', {}, 'Roles, in priority order'),
    h(
      'p',
      { class: 'muted' },
      'A person’s roles claim lists their roles in this order. An API orders its own roles (its page), and the first one a caller holds there is its single role claim.',
    ),
    roleTable,
    roleForm,
    h('h2', {}, 'Role mappings'),
    mappings,
    newMapping,
  );
  draw.setRegion(region);
  await mappings.loaded;
}

/**
 * @param {import('../navigation.js').Drawing} draw
 * @param {string} name
 */
async function roleDetail(draw, name) {
  const result = await api('getRole', { params: { name } });
  if (!result.ok) return notFoundPage(draw, `Role ${name}`, result, '#/roles', 'Back to roles');
  const role = result.data;
  const what = `role ${name}`;
  const editable = !role.managedBy;
  const region = h('div', { 'aria-live': 'polite' });
  const form = detailForm({
    label: `Settings of role ${name}`,
    fields: h(
      'div',
      { class: 'grid' },
      field('Description', 'description', { value: role.description ?? '', path: 'description' }),
      field('Place in priority order', 'position', {
        type: 'number',
        value: String(role.position + 1),
        path: 'position',
        hint: '1 is first',
      }),
    ),
    editable,
    region,
    what,
    save: (form) => {
      /** @type {import('../openapi').Operations['replaceRole']['body']} */
      const body = { name, position: Math.max(0, Number(formValue(form, 'position')) - 1) };
      if (formValue(form, 'description')) body.description = formValue(form, 'description');
      return api('replaceRole', { params: { name }, body, etag: result.etag });
    },
    remove: name !== 'lock_admin' && {
      operation: 'deleteRole',
      params: { name },
      consequences:
        'Tokens issued from now on no longer carry it. Lock refuses while an API, a client or a role mapping names it.',
      etag: () => result.etag,
      back: '#/roles',
      label: 'Delete role',
    },
  });
  showDetail(
    draw,
    {
      back: '#/roles',
      backLabel: 'Roles & mappings',
      name: name,
      title: `Role ${name}`,
      managedBy: role.managedBy,
      region,
    },
    form,
  );
}
