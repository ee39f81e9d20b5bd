// @ts-check
// A secret Lock shows once (a new client's, a regenerated one), in a modal dialog with Copy: it
// stays on screen until the admin closes it, wherever they were on the page.
import { h } from '../dom.js';

/**
 * @param {string} clientId
 * @param {string} secret
 * @returns {Promise<void>} when the dialog is closed
 */
export function showSecretOnce(clientId, secret) {
  const status = h('span', { role: 'status', class: 'muted' });
  const value = h('code', { class: 'secret', id: 'client-secret' }, secret);
  const dialog = h(
    'dialog',
    { class: 'secret-dialog', 'aria-labelledby': 'secret-heading' },
    h('h2', { id: 'secret-heading' }, `Secret of client ${clientId}`),
    h('p', {}, 'Copy it now and store it where the client reads it: Lock shows it only this once.'),
    h('p', {}, value),
    h(
      'div',
      { class: 'buttons' },
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(secret);
              status.textContent = 'Copied.';
            } catch {
              getSelection()?.selectAllChildren(value);
              status.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
            }
          },
        },
        'Copy',
      ),
      h('button', { type: 'button', onclick: () => dialog.close() }, 'Done'),
      status,
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
  return new Promise((resolve) =>
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve();
    }),
  );
}
