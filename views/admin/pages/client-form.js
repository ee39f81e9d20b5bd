// @ts-check
// The client form, one for creating and for editing: grant types, roles and APIs are picked from
// what the API offers and holds; redirect URIs (and origins) are a list of fields, one per item,
// each marked on its own when the API refuses it (dom.js: `picks` and `list` fields).
import { choicesOf, requestSchema, schemaAt } from '../api-document.js';
import { resourceChoices, roleChoices, withHeld } from '../choices.js';
import { field, formChecked, formList, formValue, h } from '../dom.js';
import { fieldGroup } from './entity-detail.js';

/** @typedef {import('../openapi').Operations['createClient']['body']} ClientInput */
/** @typedef {import('../openapi').Client} Client */

const GRANT_TYPE_LABELS = /** @type {Record<string, string>} */ ({
  authorization_code: 'Authorization code — people sign in',
  refresh_token: 'Refresh tokens',
  client_credentials: 'Client credentials — a service signs in as itself',
  'urn:ietf:params:oauth:grant-type:token-exchange': 'Token exchange (RFC 8693)',
  'urn:ietf:params:oauth:grant-type:device_code': 'Device sign-in (TVs, command lines)',
});

/**
 * What the form offers, read from the API: grant types and authentication methods (its document),
 * the roles and the APIs (resources) there are.
 */
export async function clientChoices() {
  const [schema, roles, resources] = await Promise.all([
    requestSchema('createClient'),
    roleChoices(),
    resourceChoices(),
  ]);
  const grantTypes = schemaAt(schema, 'grantTypes');
  return {
    grantTypes: choicesOf(grantTypes).map((value) => {
      const label = GRANT_TYPE_LABELS[value];
      return /** @type {[string, string]} */ ([value, label ? `${label} (${value})` : value]);
    }),
    defaultGrantTypes: /** @type {string[]} */ (grantTypes.default ?? []),
    authMethods: choicesOf(schemaAt(schema, 'tokenEndpointAuthMethod')),
    idTokenSigningAlgs: choicesOf(schemaAt(schema, 'idTokenSigningAlg')),
    roles,
    resources,
  };
}

/** @typedef {Awaited<ReturnType<typeof clientChoices>>} ClientChoices */

/**
 * @param {Partial<Client> | null} current the client edited, or null for a new one
 * @param {ClientChoices} choices
 */
export function clientFields(current, choices) {
  const c = current ?? {};
  const isNew = current === null;
  /**
   * @param {string} label @param {string} name @param {string} path
   * @param {Array<[string, string]>} offered @param {string[]} held @param {string} [hint]
   */
  const picks = (label, name, path, offered, held, hint) =>
    field(label, name, {
      type: 'picks',
      value: held,
      options: withHeld(offered, held),
      path,
      wide: true,
      hint,
    });
  const grid = h(
    'div',
    {},
    fieldGroup(
      'Client',
      isNew
        ? field('Client ID', 'clientId', { path: 'clientId', required: true, hint: 'Cannot change later' })
        : field('Client ID', 'clientId', {
            value: c.clientId ?? '',
            path: 'clientId',
            hint: 'Cannot change',
          }),
      field('Name', 'name', {
        value: c.name ?? '',
        path: 'name',
        hint: 'Shown on the sign-in and consent pages',
      }),
      field('Public client (PKCE, no secret)', 'public', {
        type: 'checkbox',
        value: c.public,
        path: 'public',
      }),
      field('First-party (no consent screen)', 'firstParty', {
        type: 'checkbox',
        value: c.firstParty,
        path: 'firstParty',
      }),
    ),
    fieldGroup(
      'Sign-in',
      picks(
        'Grant types',
        'grantTypes',
        'grantTypes',
        choices.grantTypes,
        c.grantTypes ?? choices.defaultGrantTypes,
      ),
      field('Redirect URIs', 'redirectUris', {
        type: 'list',
        value: c.redirectUris ?? (isNew ? [''] : []),
        path: 'redirectUris',
        placeholder: 'https://app.example.com/callback',
        hint: 'Where Lock sends people back after they sign in, exactly as the client sends it',
      }),
      field('Post-logout redirect URIs', 'postLogoutRedirectUris', {
        type: 'list',
        value: c.postLogoutRedirectUris ?? [],
        path: 'postLogoutRedirectUris',
        placeholder: 'https://app.example.com/',
      }),
      field('Allowed origins (CORS)', 'allowedOrigins', {
        type: 'list',
        value: c.allowedOrigins ?? [],
        path: 'allowedOrigins',
        placeholder: 'https://app.example.com',
        hint: 'Browser origins that may call the token endpoint',
      }),
      field('Back-channel logout URI', 'backchannelLogoutUri', {
        type: 'url',
        value: c.backchannelLogoutUri ?? '',
        path: 'backchannelLogoutUri',
        hint: 'Lock POSTs a signed logout token here when a session of this client ends',
      }),
      field('Logout tokens must carry sid', 'backchannelLogoutSessionRequired', {
        type: 'checkbox',
        value: c.backchannelLogoutSessionRequired,
        path: 'backchannelLogoutSessionRequired',
      }),
    ),
    fieldGroup(
      'APIs and roles',
      picks('APIs it gets tokens for', 'resources', 'resources', choices.resources, c.resources ?? []),
      picks(
        'Roles (when it signs in as itself)',
        'roles',
        'roles',
        choices.roles,
        c.roles ?? [],
        'Client credentials: the roles its own tokens carry',
      ),
      picks(
        'Introspects tokens of',
        'introspects',
        'introspects',
        choices.resources,
        c.introspects ?? [],
        'APIs this client (a gateway) may introspect tokens for',
      ),
      picks(
        'Exchanges tokens meant for',
        'subjectAudiences',
        'tokenExchange.subjectAudiences',
        choices.resources,
        c.tokenExchange?.subjectAudiences ?? [],
        "Token exchange (RFC 8693): the audiences of callers' tokens it may swap for its APIs",
      ),
    ),
    fieldGroup(
      'Security',
      field('Client authentication', 'tokenEndpointAuthMethod', {
        type: 'select',
        value: c.tokenEndpointAuthMethod ?? '',
        path: 'tokenEndpointAuthMethod',
        options: [
          ['', 'Default (Basic secret; none if public)'],
          ...choices.authMethods.map((m) => /** @type {[string, string]} */ ([m, m])),
        ],
        hint: 'private_key_jwt: the client signs assertions with its private key; it gets no secret',
      }),
      field('JWK set URL', 'jwksUri', {
        type: 'url',
        value: c.jwksUri ?? '',
        path: 'jwksUri',
        hint: 'private_key_jwt, instead of inline keys: https URL where the client publishes its keys',
      }),
      field('Public keys (JWK set)', 'jwks', {
        type: 'textarea',
        value: c.jwks ? JSON.stringify(c.jwks, null, 2) : '',
        path: 'jwks',
        rows: 3,
        wide: true,
        hint: 'private_key_jwt: {"keys": [...]} — public keys only, never the private key',
      }),
      field('Require a second factor', 'requireMfa', {
        type: 'checkbox',
        value: c.requireMfa,
        path: 'requireMfa',
      }),
      field('Require a passkey', 'requirePasskey', {
        type: 'checkbox',
        value: c.requirePasskey,
        path: 'requirePasskey',
        hint: 'local accounts sign in with a passkey (phishing-resistant): docs/passkeys.md',
      }),
      field('Require DPoP-bound tokens', 'dpopBoundAccessTokens', {
        type: 'checkbox',
        value: c.dpopBoundAccessTokens,
        path: 'dpopBoundAccessTokens',
      }),
      field('Require pushed authorization requests (PAR)', 'requirePushedAuthorizationRequests', {
        type: 'checkbox',
        value: c.requirePushedAuthorizationRequests,
        path: 'requirePushedAuthorizationRequests',
      }),
      field('ID token signing algorithm', 'idTokenSigningAlg', {
        type: 'select',
        value: c.idTokenSigningAlg ?? 'RS256',
        path: 'idTokenSigningAlg',
        options: choices.idTokenSigningAlgs.map((alg) => /** @type {[string, string]} */ ([alg, alg])),
        hint: 'RS256 (the default) every client accepts; ES256 and EdDSA sign several times cheaper (docs/tokens.md)',
      }),
    ),
  );
  const id = /** @type {HTMLInputElement} */ (grid.querySelector('input[name="clientId"]'));
  id.readOnly = !isNew;
  return grid;
}

/**
 * The client the form describes, as the API takes it (create, or PUT: every member, so that what
 * the form left empty is removed).
 * @param {HTMLFormElement} form
 * @param {Partial<Client> | null} current
 * @returns {ClientInput}
 */
export function clientBody(form, current) {
  /** @type {ClientInput} */
  const body = {
    clientId: current?.clientId ?? formValue(form, 'clientId'),
    public: formChecked(form, 'public'),
    firstParty: formChecked(form, 'firstParty'),
    grantTypes: /** @type {NonNullable<ClientInput['grantTypes']>} */ (formList(form, 'grantTypes')),
    redirectUris: formList(form, 'redirectUris'),
    postLogoutRedirectUris: formList(form, 'postLogoutRedirectUris'),
    allowedOrigins: formList(form, 'allowedOrigins'),
    roles: formList(form, 'roles'),
    resources: formList(form, 'resources'),
    introspects: formList(form, 'introspects'),
    requireMfa: formChecked(form, 'requireMfa'),
    requirePasskey: formChecked(form, 'requirePasskey'),
    dpopBoundAccessTokens: formChecked(form, 'dpopBoundAccessTokens'),
    requirePushedAuthorizationRequests: formChecked(form, 'requirePushedAuthorizationRequests'),
    idTokenSigningAlg: /** @type {NonNullable<ClientInput['idTokenSigningAlg']>} */ (
      formValue(form, 'idTokenSigningAlg') || 'RS256'
    ),
  };
  if (formValue(form, 'name')) body.name = formValue(form, 'name');
  if (formValue(form, 'backchannelLogoutUri')) {
    body.backchannelLogoutUri = formValue(form, 'backchannelLogoutUri');
    body.backchannelLogoutSessionRequired = formChecked(form, 'backchannelLogoutSessionRequired');
  }
  const subjectAudiences = formList(form, 'subjectAudiences');
  if (subjectAudiences.length > 0) body.tokenExchange = { subjectAudiences };
  const authMethod = formValue(form, 'tokenEndpointAuthMethod');
  if (authMethod)
    body.tokenEndpointAuthMethod = /** @type {ClientInput['tokenEndpointAuthMethod']} */ (authMethod);
  const jwks = formValue(form, 'jwks');
  // Sent as typed: text that is not JSON comes back as the API's problem naming jwks.
  if (jwks) body.jwks = /** @type {ClientInput['jwks']} */ (parseJson(jwks));
  if (formValue(form, 'jwksUri')) body.jwksUri = formValue(form, 'jwksUri');
  return body;
}

/** @param {string} text @returns {unknown} */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
