// @ts-check
// Users & groups: local users (search, create, disable/enable) and groups.
import { api, expectOk } from '../api.js';
import { field, formValue, h, list, owner, rawValue, show, showError, table } from '../dom.js';
import { flash, go, hashQuery, route, setRegion } from '../navigation.js';
import { groupForm, groupTable } from './groups.js';

/** @typedef {import('../openapi').Operations['createUser']['body']} UserInput */

export async function usersPage() {
  const search = hashQuery().get('search') ?? '';
  const [users, groups] = await Promise.all([
    api('listUsers', { query: { limit: 100, ...(search && { search }) } }),
    api('listGroups'),
  ]);
  const region = h('div', { 'aria-live': 'polite' });
  const userRows = expectOk(users).items.map((u) =>
    h(
      'tr',
      {},
      h('td', {}, h('strong', {}, u.username), ' ', owner(u.managedBy)),
      h('td', {}, u.name ?? ''),
      h('td', {}, u.email ?? ''),
      h('td', {}, u.groups.join(', ')),
      h('td', {}, u.effectiveRoles.join(', ')),
      h('td', {}, u.disabled ? h('span', { class: 'fail' }, 'disabled') : 'active'),
      h(
        'td',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            onclick: async () => {
              const changed = await api(u.disabled ? 'enableUser' : 'disableUser', { params: { id: u.id } });
              if (!changed.ok) return showError(region, null, changed);
              flash(`${u.username} ${u.disabled ? 'enabled' : 'disabled'}.`);
              await route();
            },
          },
          u.disabled ? 'Enable' : 'Disable',
        ),
        h(
          'button',
          {
            type: 'button',
            title: 'End every session and refresh token; applications with back-channel logout are told',
            onclick: async () => {
              const ended = await api('endUserSessions', { params: { id: u.id } });
              if (!ended.ok) return showError(region, null, ended);
              flash(`${u.username} is signed out everywhere.`);
              await route();
            },
          },
          'Sign out everywhere',
        ),
      ),
    ),
  );
  const searchForm = h(
    'form',
    { class: 'toolbar', role: 'search' },
    field('Search users', 'search', { type: 'search', value: search }),
    h('button', { type: 'submit' }, 'Search'),
  );
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = formValue(searchForm, 'search');
    go(`#/users${text ? `?search=${encodeURIComponent(text)}` : ''}`);
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
    searchForm,
    h('h2', {}, 'Local users'),
    table(['Username', 'Name', 'Email', 'Groups', 'Roles', 'Status', ''], userRows, 'No users match.'),
    userForm,
    h('h2', {}, 'Groups'),
    groupTable(expectOk(groups).items, region),
    groupForm(region),
  );
  setRegion(region);
}
