// @ts-check
// One local user (#/users/<id>): state (lockout, second factor, connector), profile with groups
// and roles picked from the API, its passkeys, the applications with access to the account, and
// the actions: password, TOTP reset, passkey removal, an application's access removed, unlock,
// sign out everywhere, disable, delete — those that would lock someone out are disabled with the
// reason.
import { api, expectOk } from '../api.js';
import { field, formList, formValue, h, owner, showError } from '../dom.js';
import { dataTable, rowButton } from '../lists.js';
import { flash, route } from '../navigation.js';
import {
  deleteUser,
  protectedBecause,
  removeAppAccess,
  removePasskey,
  resetPasskeys,
  resetPassword,
  resetTotp,
  secondFactorOf,
  signOutEverywhere,
  statusOf,
  toggleDisabled,
  unlock,
} from './user-actions.js';
import { pickerChoices } from './users.js';

/** @typedef {import('../openapi').User} User */
/** @typedef {import('./user-actions.js').UserPasskey} UserPasskey */
/** @typedef {import('./user-actions.js').UserApp} UserApp */
/** @typedef {import('../openapi').Operations['replaceUser']['body']} UserInput */

/**
 * @param {import('../navigation.js').Drawing} draw
 * @param {string} id
 */
export async function userDetailPage(draw, id) {
  const [read, choices, passkeys, apps] = await Promise.all([
    api('getUser', { params: { id } }),
    pickerChoices(),
    api('listUserPasskeys', { params: { id } }),
    api('listUserApps', { params: { id } }),
  ]);
  const u = expectOk(read);
  const etag = read.etag;
  const region = h('div', { 'aria-live': 'polite' });
  const fromFile = u.managedBy === 'config';
  /** @param {string[]} values */
  const options = (values) => values.map((v) => /** @type {[string, string]} */ ([v, v]));
  // A group or role the user holds that the pickers do not list (removed meanwhile) stays visible.
  const groupNames = [...new Set([...choices.groups.map((g) => g.name), ...u.groups])];
  const roleNames = [...new Set([...choices.roles.map((r) => r.name), ...u.roles])];

  const form = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-label': 'Profile' },
    h('h2', {}, 'Profile'),
    fromFile &&
      h(
        'p',
        { class: 'muted' },
        'Managed by the declarative file (LOCK_CONFIG): change it there and apply it.',
      ),
    h(
      'fieldset',
      { disabled: fromFile, class: 'plain' },
      h(
        'div',
        { class: 'grid' },
        field('Username', 'username', { path: 'username', value: u.username, required: true }),
        field('Full name', 'name', { path: 'name', value: u.name ?? '' }),
        field('Email', 'email', { type: 'email', path: 'email', value: u.email ?? '' }),
        field('Groups', 'groups', {
          type: 'picks',
          path: 'groups',
          wide: true,
          value: u.groups,
          options: options(groupNames),
        }),
        field('Roles', 'roles', {
          type: 'picks',
          path: 'roles',
          wide: true,
          value: u.roles,
          hint: 'Granted directly, besides what the groups give',
          options: options(roleNames),
        }),
      ),
    ),
    !fromFile &&
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Save changes')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    /** @type {UserInput} */
    const body = {
      username: formValue(form, 'username'),
      groups: formList(form, 'groups'),
      roles: formList(form, 'roles'),
      disabled: u.disabled,
    };
    if (formValue(form, 'name')) body.name = formValue(form, 'name');
    if (formValue(form, 'email')) body.email = formValue(form, 'email');
    const saved = await api('replaceUser', { params: { id }, body, etag });
    if (!saved.ok) return showError(region, form, saved);
    flash(`${saved.data.username} saved.`);
    await route();
  });

  const why = protectedBecause(u);
  const actions = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'user-actions' },
    h('h2', { id: 'user-actions' }, 'Actions'),
    h(
      'div',
      { class: 'buttons actions' },
      ...rowButton('Set password', u.username, () => resetPassword(u)),
      u.secondFactor.totp && rowButton('Reset two-step sign-in', u.username, () => resetTotp(u, region)),
      u.secondFactor.passkeys > 0 &&
        rowButton('Remove all passkeys', `of ${u.username}`, () => resetPasskeys(u, region), {
          danger: true,
        }),
      u.lockedUntil && rowButton('Unlock', u.username, () => unlock(u, region)),
      ...rowButton('Sign out everywhere', u.username, () => signOutEverywhere(u, region)),
      ...rowButton(u.disabled ? 'Enable' : 'Disable', u.username, () => toggleDisabled(u, region), {
        danger: !u.disabled,
        ...(!u.disabled && { disabledWhy: why }),
      }),
      !fromFile &&
        rowButton('Delete', u.username, () => deleteUser(u, region), { danger: true, disabledWhy: why }),
    ),
  );

  const passkeyItems = expectOk(passkeys).items;
  /** @type {Array<import('../lists.js').Column<UserPasskey>>} */
  const passkeyColumns = [
    { label: 'Name', cell: (p) => p.name },
    { label: 'Kind', cell: (p) => (p.synced ? 'Synced passkey' : 'Passkey on one device') },
    { label: 'Added', cell: (p) => new Date(p.createdAt).toLocaleString() },
    { label: 'Last used', cell: (p) => (p.lastUsedAt ? new Date(p.lastUsedAt).toLocaleString() : 'never') },
    { label: 'Model (AAGUID)', kind: 'id', cell: (p) => h('code', {}, p.aaguid) },
    {
      label: 'Actions',
      kind: 'actions',
      cell: (p) => rowButton('Remove passkey', p.name, () => removePasskey(u, p, region), { danger: true }),
    },
  ];
  const passkeyList = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'user-passkeys' },
    h('h2', { id: 'user-passkeys' }, 'Passkeys'),
    passkeyItems.length > 0
      ? dataTable(passkeyColumns, passkeyItems, `Passkeys of ${u.username}`)
      : h('p', { class: 'muted' }, 'No passkeys: this account signs in without one.'),
  );

  const appItems = expectOk(apps).items;
  /** @type {Array<import('../lists.js').Column<UserApp>>} */
  const appColumns = [
    { label: 'Application', kind: 'id', cell: (a) => h('code', {}, a.clientId) },
    { label: 'Scopes', cell: (a) => a.openidScopes.join(' ') || '–' },
    {
      label: 'APIs',
      cell: (a) =>
        a.apis
          .map((api) =>
            api.scopes.length > 0 ? `${api.indicator} (${api.scopes.join(' ')})` : api.indicator,
          )
          .join(', ') || '–',
    },
    { label: 'Since', cell: (a) => new Date(a.since).toLocaleString() },
    {
      label: 'Actions',
      kind: 'actions',
      cell: (a) =>
        rowButton('Remove access', a.clientId, () => removeAppAccess(u, a, region), { danger: true }),
    },
  ];
  const appList = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'user-apps' },
    h('h2', { id: 'user-apps' }, 'Apps with access'),
    appItems.length > 0
      ? dataTable(appColumns, appItems, `Applications with access to ${u.username}’s account`)
      : h('p', { class: 'muted' }, 'No application holds access to this account.'),
  );

  draw.show(
    h('p', { class: 'crumbs' }, h('a', { href: '#/users' }, 'Users & groups'), ' › ', u.username),
    h('h1', {}, u.username, ' ', owner(u.managedBy), u.you && h('span', { class: 'badge' }, 'you')),
    region,
    h(
      'dl',
      { class: 'facts panel' },
      h('dt', {}, 'Status'),
      h('dd', {}, statusOf(u)),
      h('dt', {}, 'Second factor'),
      h('dd', {}, secondFactorOf(u)),
      h('dt', {}, 'Signs in through'),
      h('dd', {}, u.connector === 'local' ? 'Lock account (connector local)' : u.connector),
      h('dt', {}, 'Password'),
      h('dd', {}, u.hasPassword ? 'set' : 'none yet'),
      h('dt', {}, 'All roles'),
      h('dd', {}, u.effectiveRoles.join(', ') || 'none'),
      h('dt', {}, 'Created'),
      h('dd', {}, new Date(u.createdAt).toLocaleString()),
      h('dt', {}, 'ID'),
      h('dd', {}, h('code', {}, u.id)),
    ),
    actions,
    passkeyList,
    appList,
    form,
  );
  draw.setRegion(region);
}
