// @ts-check
// Clients: the list and a new client (#/clients), one client's page to edit, regenerate its secret
// or delete it (#/clients/<client id>). A secret is shown once, in the secret dialog.
import { api, expectOk } from '../api.js';
import { h, owner, show, table } from '../dom.js';
import { flash, go, route, setRegion } from '../navigation.js';
import { clientBody, clientChoices, clientFields } from './client-form.js';
import {
  backLink,
  deleteEntity,
  hashOf,
  notFoundPage,
  readOnlyNote,
  saveFailed,
  showProblems,
  subPath,
} from './entity-detail.js';
import { showSecretOnce } from './secret-once.js';

/** @typedef {import('../openapi').Client} Client */

export async function clientsPage() {
  const [clientId] = subPath();
  return clientId === undefined ? clientList() : clientDetail(clientId);
}

/** @param {Client} c */
const kindOf = (c) =>
  c.public
    ? 'public'
    : c.tokenEndpointAuthMethod === 'private_key_jwt'
      ? 'confidential (keys)'
      : 'confidential';

async function clientList() {
  const [result, choices] = await Promise.all([api('listClients'), clientChoices()]);
  const { items } = expectOk(result);
  const region = h('div', { 'aria-live': 'polite' });
  const rows = items.map((c) =>
    h(
      'tr',
      {},
      h(
        'td',
        { 'data-label': 'Client ID' },
        h('a', { href: hashOf('clients', c.clientId) }, h('code', {}, c.clientId)),
        ' ',
        owner(c.managedBy),
      ),
      h('td', { 'data-label': 'Name' }, c.name ?? ''),
      h('td', { 'data-label': 'Type' }, kindOf(c)),
      h('td', { 'data-label': 'Grant types' }, c.grantTypes.join(', ')),
      h('td', { 'data-label': 'Roles' }, c.roles.join(', ')),
      h(
        'td',
        { class: 'actions' },
        h(
          'a',
          { class: 'button', href: hashOf('clients', c.clientId), 'aria-label': `Open client ${c.clientId}` },
          c.managedBy ? 'View' : 'Edit',
        ),
      ),
    ),
  );
  const form = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-labelledby': 'new-client' },
    h('h2', { id: 'new-client' }, 'New client'),
    clientFields(null, choices),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create client')),
  );
  const formRegion = h('div', { 'aria-live': 'polite' });
  form.insertBefore(formRegion, form.lastElementChild);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = clientBody(form, null);
    const created = await api('createClient', { body });
    if (!created.ok) return showProblems(formRegion, form, created);
    flash(`Client ${created.data.clientId} created.`);
    go(hashOf('clients', created.data.clientId));
    if (created.data.clientSecret) await showSecretOnce(created.data.clientId, created.data.clientSecret);
  });
  show(
    h('h1', {}, 'Clients'),
    region,
    table(['Client ID', 'Name', 'Type', 'Grant types', 'Roles', ''], rows),
    form,
  );
  setRegion(region);
}

/** @param {string} clientId */
async function clientDetail(clientId) {
  const [result, choices] = await Promise.all([api('getClient', { params: { clientId } }), clientChoices()]);
  if (!result.ok) return notFoundPage(`Client ${clientId}`, result, '#/clients', 'Back to clients');
  const client = result.data;
  let etag = result.etag;
  const what = `client ${clientId}`;
  const region = h('div', { 'aria-live': 'polite' });
  const editable = !client.managedBy;
  const fields = h('fieldset', { class: 'plain', disabled: !editable }, clientFields(client, choices));
  const form = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-label': `Settings of client ${clientId}` },
    fields,
    region,
    editable &&
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'submit', class: 'primary' }, 'Save changes'),
        client.hasSecret && h('button', { type: 'button', onclick: () => regenerate() }, 'Regenerate secret'),
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: () =>
              deleteEntity(
                'deleteClient',
                { clientId },
                {
                  what,
                  consequences:
                    'Its secret stops working and every token it holds is refused at once; people signed in through it are not signed out of Lock. Consents given to it are forgotten. This cannot be undone.',
                  etag,
                  region,
                  back: '#/clients',
                },
              ),
          },
          'Delete client',
        ),
      ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = clientBody(form, client);
    const saved = await api('replaceClient', { params: { clientId }, body, etag });
    if (!saved.ok) return saveFailed(region, form, saved, what);
    flash(`Saved ${what}.`);
    await route();
    if (saved.data.clientSecret) await showSecretOnce(clientId, saved.data.clientSecret);
  });

  async function regenerate() {
    if (
      !confirm(
        `Regenerate the secret of ${clientId}?\n\nThe current secret stops working at once: the client gets no tokens until it is given the new one.`,
      )
    )
      return;
    const rotated = await api('rotateClientSecret', { params: { clientId }, etag });
    if (!rotated.ok) return saveFailed(region, form, rotated, what);
    etag = rotated.etag;
    await showSecretOnce(clientId, rotated.data.clientSecret ?? '');
  }

  show(
    backLink('#/clients', 'Clients'),
    h('h1', {}, `Client ${clientId}`, ' ', owner(client.managedBy)),
    h(
      'p',
      { class: 'muted' },
      kindOf(client),
      client.hasSecret ? ' · has a secret (write-only: regenerate to get a new one)' : '',
    ),
    readOnlyNote(client.managedBy),
    form,
  );
  setRegion(region);
}
