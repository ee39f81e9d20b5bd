// @ts-check
// What the user list and the user page share: an account's state in words, why it may not be
// disabled or deleted, and the actions that ask first (disable, delete, TOTP reset, passkey
// removal, password).
import { api, withEtag } from '../api.js';
import { confirmAction, openModal, showSecret } from '../dialogs.js';
import { field, h, showError } from '../dom.js';
import { flash, go, route } from '../navigation.js';

/** @typedef {import('../openapi').User} User */
/** @typedef {import('../openapi').Operations['listUserPasskeys']['response']['items'][number]} UserPasskey */
/** @typedef {import('../openapi').Operations['listUserApps']['response']['items'][number]} UserApp */

/** "locked out until 14:05", "disabled", "active": a locked-out account is never "active". */
export function statusOf(/** @type {User} */ u) {
  if (u.disabled) return h('span', { class: 'fail' }, 'disabled');
  if (u.lockedUntil)
    return h(
      'span',
      { class: 'fail' },
      'locked out until ',
      h('time', { datetime: u.lockedUntil }, new Date(u.lockedUntil).toLocaleTimeString()),
    );
  return h('span', {}, 'active');
}

/** "TOTP (8 recovery codes left), 2 passkeys", or "none". @param {User} u */
export function secondFactorOf(u) {
  const { totp, recoveryCodesLeft, passkeys } = u.secondFactor;
  const factors = [
    totp && `TOTP (${recoveryCodesLeft} recovery ${recoveryCodesLeft === 1 ? 'code' : 'codes'} left)`,
    passkeys > 0 && `${passkeys} ${passkeys === 1 ? 'passkey' : 'passkeys'}`,
  ].filter(Boolean);
  return factors.length > 0 ? factors.join(', ') : 'none';
}

/**
 * Why the caller may not disable or delete this account, or undefined when they may.
 * @param {User} u
 */
export function protectedBecause(u) {
  if (u.you) return 'This is your account: another administrator can disable or delete it.';
  if (u.lastAdmin) return 'The only administrator who can sign in: give someone else lock_admin first.';
  return undefined;
}

/** Disable (after confirming) or enable. @param {User} u @param {HTMLElement} region */
export async function toggleDisabled(u, region) {
  if (!u.disabled) {
    const ok = await confirmAction({
      title: `Disable ${u.username}?`,
      message: `${u.username} will be signed out of every application at once and cannot sign in until enabled again.`,
      action: `Disable ${u.username}`,
    });
    if (!ok) return;
  }
  const changed = await api(u.disabled ? 'enableUser' : 'disableUser', { params: { id: u.id } });
  if (!changed.ok) return showError(region, null, changed);
  flash(`${u.username} ${u.disabled ? 'enabled' : 'disabled'}.`);
  await route();
}

/** @param {User} u @param {HTMLElement} region */
export async function deleteUser(u, region) {
  const ok = await confirmAction({
    title: `Delete ${u.username}?`,
    message: `The account is removed for good: ${u.username} is signed out of every application and cannot sign in again. Their audit events stay.`,
    action: `Delete ${u.username}`,
  });
  if (!ok) return;
  const deleted = await withEtag('getUser', 'deleteUser', { id: u.id });
  if (!deleted.ok) return showError(region, null, deleted);
  flash(`Deleted ${u.username}.`);
  go('#/users');
}

/** @param {User} u @param {HTMLElement} region */
export async function signOutEverywhere(u, region) {
  const ended = await api('endUserSessions', { params: { id: u.id } });
  if (!ended.ok) return showError(region, null, ended);
  flash(`${u.username} is signed out everywhere.`);
  await route();
}

/** @param {User} u @param {HTMLElement} region */
export async function resetTotp(u, region) {
  const ok = await confirmAction({
    title: `Reset two-step sign-in of ${u.username}?`,
    message: `Their authenticator and recovery codes stop working. At the next sign-in ${u.username} signs in with the password only, or sets up a new authenticator where a role requires one.`,
    action: `Reset two-step sign-in of ${u.username}`,
  });
  if (!ok) return;
  const reset = await api('resetUserTotp', { params: { id: u.id } });
  if (!reset.ok) return showError(region, null, reset);
  flash(`Two-step sign-in of ${u.username} reset.`);
  await route();
}

/** @param {User} u @param {UserPasskey} passkey @param {HTMLElement} region */
export async function removePasskey(u, passkey, region) {
  const ok = await confirmAction({
    title: `Remove the passkey “${passkey.name}” of ${u.username}?`,
    message: `That passkey stops signing ${u.username} in at once, on every device it is on. Their other passkeys, their password and their sessions stay; they can add a passkey again on their account page.`,
    action: `Remove passkey ${passkey.name}`,
  });
  if (!ok) return;
  const removed = await api('removeUserPasskey', { params: { id: u.id, passkeyId: passkey.id } });
  if (!removed.ok) return showError(region, null, removed);
  flash(`Passkey “${passkey.name}” of ${u.username} removed.`);
  await route();
}

/** @param {User} u @param {UserApp} app @param {HTMLElement} region */
export async function removeAppAccess(u, app, region) {
  const ok = await confirmAction({
    title: `Remove the access of ${app.clientId} to ${u.username}’s account?`,
    message: `${app.clientId} can no longer refresh its tokens for ${u.username} (offline access included), and what ${u.username} consented to is forgotten: their next sign-in to it asks again. Tokens it already holds end within their short lifetime. Their other applications and their sessions stay.`,
    action: `Remove access of ${app.clientId}`,
  });
  if (!ok) return;
  const removed = await api('removeUserAppAccess', { params: { id: u.id, clientId: app.clientId } });
  if (!removed.ok) return showError(region, null, removed);
  flash(`The access of ${app.clientId} to ${u.username}’s account was removed.`);
  await route();
}

/** @param {User} u @param {HTMLElement} region */
export async function resetPasskeys(u, region) {
  const count = u.secondFactor.passkeys;
  const ok = await confirmAction({
    title: `Remove all passkeys of ${u.username}?`,
    message: `${count === 1 ? 'Their passkey stops' : `All ${count} of their passkeys stop`} signing ${u.username} in at once. They sign in with their password (and their authenticator app, if they have one), and can add a passkey again on their account page. Where a role or an application requires a passkey, they cannot sign in there until they do.`,
    action: `Remove all passkeys of ${u.username}`,
  });
  if (!ok) return;
  const reset = await api('resetUserPasskeys', { params: { id: u.id } });
  if (!reset.ok) return showError(region, null, reset);
  flash(`All passkeys of ${u.username} removed.`);
  await route();
}

/** @param {User} u @param {HTMLElement} region */
export async function unlock(u, region) {
  const unlocked = await api('unlockUser', { params: { id: u.id } });
  if (!unlocked.ok) return showError(region, null, unlocked);
  flash(`${u.username} can sign in again.`);
  await route();
}

/** A password to hand over: 20 characters from an alphabet without look-alikes (about 115 bits). */
export function generatePassword() {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = crypto.getRandomValues(new Uint32Array(20));
  return Array.from(bytes, (n) => alphabet[n % alphabet.length]).join('');
}

/**
 * Sets a new password in a dialog: generated (then shown once, with Copy) or typed.
 * @param {User} u
 */
export async function resetPassword(u) {
  const titleId = `pw${Math.random().toString(36).slice(2)}`;
  const password = field('New password', 'password', {
    type: 'password',
    path: 'password',
    hint: 'At least 8 characters; leave empty to generate one',
  });
  const endSessions = field('Sign the user out everywhere', 'endSessions', {
    type: 'checkbox',
    path: 'endSessions',
  });
  const form = h(
    'form',
    { novalidate: true },
    h('h2', { id: titleId }, `Set a new password for ${u.username}`),
    h('p', {}, 'A generated password is shown once, for you to hand over.'),
    password,
    endSessions,
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary' }, 'Set password'),
      h('button', { type: 'button', value: 'cancel', onclick: () => dialog.close('cancel') }, 'Cancel'),
    ),
  );
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form);
  /** @type {string | null} */
  let chosen = null;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (form.elements.namedItem('password'));
    const generated = input.value === '';
    const value = generated ? generatePassword() : input.value;
    const set = await api('setUserPassword', {
      params: { id: u.id },
      body: {
        password: value,
        endSessions: /** @type {HTMLInputElement} */ (form.elements.namedItem('endSessions')).checked,
      },
    });
    if (!set.ok) return showError(form, form, set);
    chosen = generated ? value : '';
    dialog.close('done');
  });
  await openModal(dialog);
  if (chosen === null) return;
  if (chosen)
    await showSecret({
      title: `New password of ${u.username}`,
      message: 'Hand it over now: it is not shown again.',
      secret: chosen,
      filename: `${u.username}-password.txt`,
    });
  flash(`New password of ${u.username} set.`);
  await route();
}
