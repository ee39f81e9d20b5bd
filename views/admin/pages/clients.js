// @ts-check
// Clients: the list and a new client (#/clients), one client's page to edit, regenerate its secret
// or delete it (#/clients/<client id>). A secret is shown once, in the secret dialog.
import { api } from '../api.js';
import { confirmAction, showSecret } from '../dialogs.js';
import { h, owner, showError } from '../dom.js';
import { flash, go, route } from '../navigation.js';
import { clientBody, clientChoices, clientFields } from './client-form.js';
import {
  detailForm,
  entityList,
  hashOf,
  notFoundPage,
  openLink,
  saveFailed,
  showDetail,
  subPath,
} from './entity-detail.js';

/** @typedef {import('../openapi').Client} Client */

/** @param {import('../navigation.js').Drawing} draw */
export async function clientsPage(draw) {
  const [clientId] = subPath();
  return clientId === undefined ? clientList(draw) : clientDetail(draw, clientId);
}

/** @param {Client} c */
const kindOf = (c) =>
  c.public
    ? 'public'
    : c.tokenEndpointAuthMethod === 'private_key_jwt'
      ? 'confidential (keys)'
      : 'confidential';

/**
 * The one-time secret, in the console's secret dialog.
 * @param {string} clientId
 * @param {string} secret
 */
const secretOnce = (clientId, secret) =>
  showSecret({
    title: `Secret of client ${clientId}`,
    message: 'Copy it now and store it where the client reads it: Lock shows it only this once.',
    secret,
    filename: `${clientId}-secret.txt`,
  });

/** @param {import('../navigation.js').Drawing} draw */
async function clientList(draw) {
  const choices = await clientChoices();
  const region = h('div', { 'aria-live': 'polite' });
  /** @type {import('./entity-detail.js').EntityListOptions<Client>['columns']} */
  const columns = [
    {
      label: 'Client ID',
      kind: 'id',
      cell: (c) => [
        h('a', { href: hashOf('clients', c.clientId) }, h('code', {}, c.clientId)),
        ' ',
        owner(c.managedBy),
      ],
    },
    { label: 'Name', cell: (c) => c.name ?? '' },
    { label: 'Type', cell: kindOf },
    { label: 'Grant types', cell: (c) => c.grantTypes.join(', ') },
    { label: 'Roles', cell: (c) => c.roles.join(', ') },
    {
      label: 'Actions',
      kind: 'actions',
      cell: (c) => openLink(hashOf('clients', c.clientId), `client ${c.clientId}`, c.managedBy),
    },
  ];
  const clients = entityList({
    section: 'clients',
    operation: 'listClients',
    caption: 'Clients',
    noun: 'client',
    columns,
  });
  const form = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-labelledby': 'new-client' },
    h('h2', { id: 'new-client' }, 'New client'),
    clientFields(null, choices),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create client')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const created = await api('createClient', { body: clientBody(form, null) });
    if (!created.ok) return showError(form, form, created);
    flash(`Client ${created.data.clientId} created.`);
    go(hashOf('clients', created.data.clientId));
    if (created.data.clientSecret) await secretOnce(created.data.clientId, created.data.clientSecret);
  });
  draw.show(h('h1', {}, 'Clients'), region, clients, form);
  draw.setRegion(region);
  await clients.loaded;
}

/**
 * @param {import('../navigation.js').Drawing} draw
 * @param {string} clientId
 */
async function clientDetail(draw, clientId) {
  const [result, choices] = await Promise.all([api('getClient', { params: { clientId } }), clientChoices()]);
  if (!result.ok) return notFoundPage(draw, `Client ${clientId}`, result, '#/clients', 'Back to clients');
  const client = result.data;
  let etag = result.etag;
  const what = `client ${clientId}`;
  const region = h('div', { 'aria-live': 'polite' });
  const editable = !client.managedBy;
  const form = detailForm({
    label: `Settings of client ${clientId}`,
    fields: clientFields(client, choices),
    editable,
    region,
    what,
    save: (form) => api('replaceClient', { params: { clientId }, body: clientBody(form, client), etag }),
    saved: async (/** @type {import('../openapi').ClientWithSecret} */ saved) => {
      flash(`Saved ${what}.`);
      await route();
      // A public client made confidential gets its first secret.
      if (saved.clientSecret) await secretOnce(clientId, saved.clientSecret);
    },
    buttons: client.hasSecret
      ? [h('button', { type: 'button', onclick: () => regenerate() }, 'Regenerate secret')]
      : [],
    remove: {
      operation: 'deleteClient',
      params: { clientId },
      consequences:
        'Its secret stops working and every token it holds is refused at once; people signed in through it are not signed out of Lock. Consents given to it are forgotten. This cannot be undone.',
      etag: () => etag,
      back: '#/clients',
      label: 'Delete client',
    },
  });

  async function regenerate() {
    const confirmed = await confirmAction({
      title: `Regenerate the secret of ${clientId}?`,
      message:
        'The current secret stops working at once: the client gets no tokens until it is given the new one.',
      action: 'Regenerate secret',
    });
    if (!confirmed) return;
    const rotated = await api('rotateClientSecret', { params: { clientId }, etag });
    if (!rotated.ok) return saveFailed(region, form, rotated, what);
    etag = rotated.etag;
    await secretOnce(clientId, rotated.data.clientSecret ?? '');
  }

  showDetail(
    draw,
    {
      back: '#/clients',
      backLabel: 'Clients',
      name: clientId,
      title: `Client ${clientId}`,
      managedBy: client.managedBy,
      region,
    },
    h(
      'p',
      { class: 'muted' },
      kindOf(client),
      client.hasSecret ? ' · has a secret (write-only: regenerate to get a new one)' : '',
    ),
    form,
  );
}
