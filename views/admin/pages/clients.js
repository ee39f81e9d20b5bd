// @ts-check
// Clients: list, create (the secret is shown once), rotate the secret, delete. The grant types on
// offer and the default come from the API document.
import { api, expectOk, withEtag } from '../api.js';
import { choicesOf, requestSchema, schemaAt } from '../api-document.js';
import {
  codes,
  field,
  formChecked,
  formValue,
  h,
  list,
  owner,
  show,
  showError,
  showOk,
  table,
} from '../dom.js';
import { confirmDelete, flashNow, setRegion, state } from '../navigation.js';

/** @typedef {import('../openapi').Operations['createClient']['body']} ClientInput */

export async function clientsPage() {
  const [result, schema] = await Promise.all([api('listClients'), requestSchema('createClient')]);
  const { items } = expectOk(result);
  const grantTypes = schemaAt(schema, 'grantTypes');
  const authMethods = choicesOf(schemaAt(schema, 'tokenEndpointAuthMethod'));
  const region = h('div', { 'aria-live': 'polite' });
  /** @param {string} clientId @param {string} secret @param {HTMLElement} [where] */
  const showSecret = (clientId, secret, where = region) =>
    showOk(
      where,
      'Secret of ',
      h('code', {}, clientId),
      ' — copy it now, it is not shown again: ',
      h('span', { class: 'secret', id: 'client-secret' }, secret),
    );
  const rows = items.map((c) =>
    h(
      'tr',
      {},
      h('td', {}, h('code', {}, c.clientId), ' ', owner(c.managedBy)),
      h('td', {}, c.name ?? ''),
      h(
        'td',
        {},
        c.public ? 'public' : 'confidential',
        c.tokenEndpointAuthMethod === 'private_key_jwt' ? ' (keys)' : '',
      ),
      h('td', {}, c.grantTypes.join(', ')),
      h('td', {}, codes(c.redirectUris)),
      h('td', {}, c.roles.join(', ')),
      h(
        'td',
        { class: 'actions' },
        c.hasSecret &&
          !c.managedBy &&
          h(
            'button',
            {
              type: 'button',
              onclick: async () => {
                if (!confirm(`Rotate the secret of ${c.clientId}? The old one stops working at once.`))
                  return;
                const rotated = await withEtag('getClient', 'rotateClientSecret', { clientId: c.clientId });
                if (!rotated.ok) return showError(region, null, rotated);
                showSecret(c.clientId, rotated.data.clientSecret ?? '');
              },
            },
            'Rotate secret',
          ),
        !c.managedBy &&
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: () =>
                confirmDelete(
                  'getClient',
                  'deleteClient',
                  { clientId: c.clientId },
                  `client ${c.clientId}`,
                  region,
                ),
            },
            'Delete',
          ),
      ),
    ),
  );
  const form = h(
    'form',
    { class: 'panel', novalidate: true },
    h('h2', {}, 'New client'),
    h(
      'div',
      { class: 'grid' },
      field('Client ID', 'clientId', { path: 'clientId', required: true }),
      field('Name', 'name', { path: 'name' }),
      field('Public client (PKCE, no secret)', 'public', { type: 'checkbox', path: 'public' }),
      field('First-party (no consent screen)', 'firstParty', { type: 'checkbox', path: 'firstParty' }),
      field('Grant types', 'grantTypes', {
        value: /** @type {string[]} */ (grantTypes.default ?? []).join(', '),
        path: 'grantTypes',
        hint: choicesOf(grantTypes).join(', '),
      }),
      field('Roles (client credentials)', 'roles', { path: 'roles', hint: 'Comma-separated' }),
      field('Redirect URIs', 'redirectUris', {
        type: 'textarea',
        path: 'redirectUris',
        hint: 'One per line',
        rows: 2,
      }),
      field('Post-logout redirect URIs', 'postLogoutRedirectUris', {
        type: 'textarea',
        path: 'postLogoutRedirectUris',
        rows: 2,
      }),
      field('Back-channel logout URI', 'backchannelLogoutUri', {
        path: 'backchannelLogoutUri',
        hint: 'Lock POSTs a signed logout token here when a session of this client ends',
      }),
      field('Logout tokens must carry sid', 'backchannelLogoutSessionRequired', {
        type: 'checkbox',
        path: 'backchannelLogoutSessionRequired',
      }),
      field('APIs (resources)', 'resources', {
        type: 'textarea',
        path: 'resources',
        rows: 2,
        hint: 'One per line',
      }),
      field('Introspects tokens of', 'introspects', {
        type: 'textarea',
        path: 'introspects',
        rows: 2,
        hint: 'APIs this client (a gateway) may introspect tokens for; one per line',
      }),
      field('Exchanges tokens meant for', 'subjectAudiences', {
        type: 'textarea',
        path: 'tokenExchange',
        rows: 2,
        hint: "Token exchange (RFC 8693): the audiences of callers' tokens it may swap for its APIs; one per line",
      }),
      field('Client authentication', 'tokenEndpointAuthMethod', {
        type: 'select',
        path: 'tokenEndpointAuthMethod',
        options: [
          ['', 'Default (Basic secret; none if public)'],
          ...authMethods.map((m) => /** @type {[string, string]} */ ([m, m])),
        ],
        hint: 'private_key_jwt: the client signs assertions with its private key; it gets no secret',
      }),
      field('Public keys (JWK set)', 'jwks', {
        type: 'textarea',
        path: 'jwks',
        rows: 3,
        hint: 'private_key_jwt: {"keys": [...]} — public keys only, never the private key',
      }),
      field('JWK set URL', 'jwksUri', {
        path: 'jwksUri',
        hint: 'private_key_jwt, instead of inline keys: https URL where the client publishes its keys',
      }),
      field('Require DPoP-bound tokens', 'dpopBoundAccessTokens', {
        type: 'checkbox',
        path: 'dpopBoundAccessTokens',
      }),
      field('Require pushed authorization requests (PAR)', 'requirePushedAuthorizationRequests', {
        type: 'checkbox',
        path: 'requirePushedAuthorizationRequests',
      }),
    ),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create client')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    /** @type {ClientInput} */
    const body = {
      clientId: formValue(form, 'clientId'),
      public: formChecked(form, 'public'),
      firstParty: formChecked(form, 'firstParty'),
      grantTypes: /** @type {NonNullable<ClientInput['grantTypes']>} */ (list(formValue(form, 'grantTypes'))),
      redirectUris: list(formValue(form, 'redirectUris')),
      postLogoutRedirectUris: list(formValue(form, 'postLogoutRedirectUris')),
      roles: list(formValue(form, 'roles')),
      resources: list(formValue(form, 'resources')),
      introspects: list(formValue(form, 'introspects')),
      dpopBoundAccessTokens: formChecked(form, 'dpopBoundAccessTokens'),
      requirePushedAuthorizationRequests: formChecked(form, 'requirePushedAuthorizationRequests'),
    };
    if (formValue(form, 'name')) body.name = formValue(form, 'name');
    if (formValue(form, 'backchannelLogoutUri')) {
      body.backchannelLogoutUri = formValue(form, 'backchannelLogoutUri');
      body.backchannelLogoutSessionRequired = formChecked(form, 'backchannelLogoutSessionRequired');
    }
    const subjectAudiences = list(formValue(form, 'subjectAudiences'));
    if (subjectAudiences.length > 0) body.tokenExchange = { subjectAudiences };
    const authMethod = formValue(form, 'tokenEndpointAuthMethod');
    if (authMethod)
      body.tokenEndpointAuthMethod = /** @type {ClientInput['tokenEndpointAuthMethod']} */ (authMethod);
    const jwks = formValue(form, 'jwks');
    // Sent as typed: text that is not JSON comes back as the API's problem naming jwks.
    if (jwks) body.jwks = /** @type {ClientInput['jwks']} */ (parseJson(jwks));
    if (formValue(form, 'jwksUri')) body.jwksUri = formValue(form, 'jwksUri');
    const created = await api('createClient', { body });
    if (!created.ok) return showError(region, form, created);
    await clientsPage();
    if (created.data.clientSecret && state.region)
      showSecret(created.data.clientId, created.data.clientSecret, state.region);
    else flashNow(`Client ${created.data.clientId} created.`);
  });
  show(
    h('h1', {}, 'Clients'),
    region,
    table(['Client ID', 'Name', 'Type', 'Grant types', 'Redirect URIs', 'Roles', ''], rows),
    form,
  );
  setRegion(region);
}

/** @param {string} text @returns {unknown} */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
