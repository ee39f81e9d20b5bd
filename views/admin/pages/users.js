// @ts-check
// Users & groups: local users (search, create, disable/enable) and groups.
import { api, expectOk } from '../api.js';
import { field, formValue, h, list, owner, rawValue, show, showError } from '../dom.js';
import { pagedList, rowButton } from '../lists.js';
import { flash, hashQuery, route, setRegion } from '../navigation.js';
import { groupForm, groupTable } from './groups.js';

/** @typedef {import('../openapi').Operations['createUser']['body']} UserInput */
/** @typedef {import('../openapi').User} User */

export async function usersPage() {
  const search = hashQuery().get('search') ?? '';
  const groups = expectOk(await api('listGroups'));
  const region = h('div', { 'aria-live': 'polite' });
  /** @type {Array<import('../lists.js').Column<User>>} */
  const columns = [
    { label: 'Username', cell: (u) => [h('strong', {}, u.username), ' ', owner(u.managedBy)] },
    { label: 'Name', cell: (u) => u.name ?? '' },
    { label: 'Email', cell: (u) => u.email ?? '', kind: 'id' },
    { label: 'Groups', cell: (u) => u.groups.join(', ') },
    { label: 'Roles', cell: (u) => u.effectiveRoles.join(', ') },
    { label: 'Status', cell: (u) => (u.disabled ? h('span', { class: 'fail' }, 'disabled') : 'active') },
    {
      label: 'Actions',
      kind: 'actions',
      cell: (u) => [
        ...rowButton(u.disabled ? 'Enable' : 'Disable', u.username, async () => {
          const changed = await api(u.disabled ? 'enableUser' : 'disableUser', { params: { id: u.id } });
          if (!changed.ok) return showError(region, null, changed);
          flash(`${u.username} ${u.disabled ? 'enabled' : 'disabled'}.`);
          await route();
        }),
        ...rowButton(
          'Sign out everywhere',
          u.username,
          async () => {
            const ended = await api('endUserSessions', { params: { id: u.id } });
            if (!ended.ok) return showError(region, null, ended);
            flash(`${u.username} is signed out everywhere.`);
            await route();
          },
          { title: 'End every session and refresh token; applications with back-channel logout are told' },
        ),
      ],
    },
  ];
  const users = pagedList({
    columns,
    caption: 'Local users',
    searchLabel: 'Search users',
    q: search,
    onSearch: (text) =>
      history.replaceState(null, '', `#/users${text ? `?search=${encodeURIComponent(text)}` : ''}`),
    load: ({ q, cursor, limit }) =>
      api('listUsers', { query: { limit, ...(q && { search: q }), ...(cursor && { cursor }) } }),
    empty: 'No local users yet.',
    noMatch: (q) => `No user matches “${q}”.`,
  });
  const userForm = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-label': 'New user' },
    h('h2', {}, 'New local user'),
    h(
      'div',
      { class: 'grid' },
      field('Username', 'username', { path: 'username', required: true }),
      field('Full name', 'name', { path: 'name' }),
      field('Email', 'email', { type: 'email', path: 'email' }),
      field('Password', 'password', { type: 'password', path: 'password' }),
      field('Groups', 'groups', { path: 'groups', hint: 'Comma-separated' }),
      field('Roles', 'roles', { path: 'roles', hint: 'Granted directly; comma-separated' }),
    ),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create user')),
  );
  userForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    /** @type {UserInput} */
    const body = {
      username: formValue(userForm, 'username'),
      groups: list(formValue(userForm, 'groups')),
      roles: list(formValue(userForm, 'roles')),
    };
    if (formValue(userForm, 'name')) body.name = formValue(userForm, 'name');
    if (formValue(userForm, 'email')) body.email = formValue(userForm, 'email');
    if (rawValue(userForm, 'password')) body.password = rawValue(userForm, 'password');
    const created = await api('createUser', { body });
    if (!created.ok) return showError(region, userForm, created);
    flash(`User ${created.data.username} created.`);
    await route();
  });
  show(
    h('h1', {}, 'Users & groups'),
    region,
    h('h2', {}, 'Local users'),
    users,
    userForm,
    h('h2', {}, 'Groups'),
    groupTable(groups.items, region),
    groupForm(region),
  );
  setRegion(region);
}
