// @ts-check
// Dialogs of the console, on the native <dialog> (modal, focus kept inside, Escape closes, focus
// goes back to the button that opened it): a one-time secret with Copy and Download, and a
// confirmation that names what a destructive action will do.
import { h } from './dom.js';

/**
 * Opens a modal dialog; resolves with the returnValue when it closes, and removes it.
 * @param {HTMLDialogElement} dialog
 * @returns {Promise<string>}
 */
export function openModal(dialog) {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  document.body.append(dialog);
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener?.isConnected) opener.focus();
      resolve(dialog.returnValue);
    });
  });
}

/**
 * @typedef {object} ConfirmOptions
 * @property {string} title the question: "Disable alice?"
 * @property {string} message what will happen: "She will be signed out of every application."
 * @property {string} action the button: "Disable alice"
 * @property {boolean} [danger] a destructive action (the button is red; Cancel has the focus)
 */

/**
 * Asks before a destructive action. Resolves true when the person chose the action.
 * @param {ConfirmOptions} options
 * @returns {Promise<boolean>}
 */
export async function confirmAction({ title, message, action, danger = true }) {
  const titleId = `dialog-${Math.random().toString(36).slice(2)}`;
  const cancel = h('button', { type: 'submit', value: 'cancel', autofocus: danger }, 'Cancel');
  const confirm = h(
    'button',
    { type: 'submit', value: 'confirm', class: danger ? 'danger' : 'primary', autofocus: !danger },
    action,
  );
  const dialog = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': `${titleId}-text` },
    h(
      'form',
      { method: 'dialog' },
      h('h2', { id: titleId }, title),
      h('p', { id: `${titleId}-text` }, message),
      h('div', { class: 'buttons' }, confirm, cancel),
    ),
  );
  return (await openModal(dialog)) === 'confirm';
}

/**
 * @typedef {object} SecretOptions
 * @property {string} title "Secret of web-app"
 * @property {string} message "Copy it now: it is not shown again."
 * @property {string} secret the text: a secret, a password, recovery codes (one per line)
 * @property {string} filename what Download saves it as
 */

/**
 * Shows a one-time secret with Copy (Clipboard API) and Download; the text is in the page only
 * while the dialog is open.
 * @param {SecretOptions} options
 * @returns {Promise<void>}
 */
export async function showSecret({ title, message, secret, filename }) {
  const titleId = `dialog-${Math.random().toString(36).slice(2)}`;
  const status = h('p', { class: 'muted', role: 'status' });
  const text = h('pre', { class: 'secret-text', id: 'one-time-secret', tabindex: '0' }, secret);
  const copy = h(
    'button',
    {
      type: 'button',
      class: 'primary',
      autofocus: true,
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(secret);
          status.textContent = 'Copied to the clipboard.';
        } catch {
          status.textContent = 'The browser did not allow copying: select the text and copy it.';
          getSelection()?.selectAllChildren(text);
        }
      },
    },
    'Copy',
  );
  const download = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        const url = URL.createObjectURL(new Blob([`${secret}\n`], { type: 'text/plain' }));
        const link = h('a', { href: url, download: filename });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
        status.textContent = `Saved as ${filename}.`;
      },
    },
    'Download',
  );
  const dialog = h(
    'dialog',
    { class: 'dialog secret-dialog', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, title),
    h('p', {}, message),
    text,
    status,
    h(
      'form',
      { method: 'dialog', class: 'buttons' },
      copy,
      download,
      h('button', { type: 'submit', value: 'done' }, 'Done'),
    ),
  );
  await openModal(dialog);
}
