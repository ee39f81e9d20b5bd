// @ts-check
// Users & groups: local users a page at a time (search, state, safe actions; each opens its own
// page), a new user with groups and roles picked from the API, and the groups.
import { api, expectOk } from '../api.js';
import { field, formList, formValue, h, owner, rawValue, showError } from '../dom.js';
import { pagedList, rowButton } from '../lists.js';
import { flash, go, hashQuery } from '../navigation.js';
import { groupForm, groupTable } from './groups.js';
import {
  protectedBecause,
  secondFactorOf,
  signOutEverywhere,
  statusOf,
  toggleDisabled,
} from './user-actions.js';

/** @typedef {import('../openapi').Operations['createUser']['body']} UserInput */
/** @typedef {import('../openapi').User} User */

/** The choices of the group and role pickers, from the API (every page of them). */
export async function pickerChoices() {
  const [groups, roles] = await Promise.all([
    api('listGroups', { query: { limit: 500 } }),
    api('listRoles', { query: { limit: 500 } }),
  ]);
  return {
    groups: expectOk(groups).items,
    roles: expectOk(roles).items,
  };
}

/** @param {import('../navigation.js').Drawing} draw */
export async function usersPage(draw) {
  const search = hashQuery().get('search') ?? '';
  const choices = await pickerChoices();
  const region = h('div', { 'aria-live': 'polite' });
  /** @type {Array<import('../lists.js').Column<User>>} */
  const columns = [
    {
      label: 'Username',
      cell: (u) => [
        h('a', { href: `#/users/${encodeURIComponent(u.id)}` }, u.username),
        ' ',
        owner(u.managedBy),
        u.you && h('span', { class: 'badge' }, 'you'),
      ],
    },
    { label: 'Name', cell: (u) => u.name ?? '' },
    { label: 'Email', kind: 'id', cell: (u) => u.email ?? '' },
    { label: 'Groups', cell: (u) => u.groups.join(', ') },
    { label: 'Roles', cell: (u) => u.effectiveRoles.join(', ') },
    { label: 'Status', cell: (u) => statusOf(u) },
    { label: 'Second factor', cell: (u) => secondFactorOf(u) },
    {
      label: 'Actions',
      kind: 'actions',
      cell: (u) => [
        ...rowButton(u.disabled ? 'Enable' : 'Disable', u.username, () => toggleDisabled(u, region), {
          danger: !u.disabled,
          ...(!u.disabled && { disabledWhy: protectedBecause(u) }),
        }),
        ...rowButton('Sign out everywhere', u.username, () => signOutEverywhere(u, region), {
          title: 'End every session and refresh token; applications with back-channel logout are told',
        }),
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
      api('listUsers', { query: { limit, ...(q && { q }), ...(cursor && { cursor }) } }),
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
      field('Password', 'password', {
        type: 'password',
        path: 'password',
        hint: 'Optional: without one, set it later from the user’s page',
      }),
      field('Groups', 'groups', {
        type: 'picks',
        path: 'groups',
        wide: true,
        options: choices.groups.map((g) => /** @type {[string, string]} */ ([g.name, g.name])),
      }),
      field('Roles', 'roles', {
        type: 'picks',
        path: 'roles',
        wide: true,
        hint: 'Granted directly, besides what the groups give',
        options: choices.roles.map((r) => /** @type {[string, string]} */ ([r.name, r.name])),
      }),
    ),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create user')),
  );
  userForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    /** @type {UserInput} */
    const body = {
      username: formValue(userForm, 'username'),
      groups: formList(userForm, 'groups'),
      roles: formList(userForm, 'roles'),
    };
    if (formValue(userForm, 'name')) body.name = formValue(userForm, 'name');
    if (formValue(userForm, 'email')) body.email = formValue(userForm, 'email');
    if (rawValue(userForm, 'password')) body.password = rawValue(userForm, 'password');
    const created = await api('createUser', { body });
    if (!created.ok) return showError(region, userForm, created);
    flash(`User ${created.data.username} created.`);
    go(`#/users/${encodeURIComponent(created.data.id)}`);
  });
  draw.show(
    h('h1', {}, 'Users & groups'),
    region,
    h('h2', {}, 'Local users'),
    users,
    userForm,
    h('h2', {}, 'Groups'),
    groupTable(choices.groups, region),
    groupForm(region),
  );
  draw.setRegion(region);
  await users.loaded;
}
