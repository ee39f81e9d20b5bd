// @ts-check
// The OpenID Connect and OAuth 2.0 connector forms: create or edit, the redirect URI to register at
// the upstream, "Test connection" on the draft, save (the server tests again and answers with the
// report when the test fails). Secrets are write-only: an empty field keeps the stored one.
import { field, formChecked, formValue, h, list, rawValue } from '../dom.js';
import { connectorActions, identityFields, loadConnector, lockIssuer } from './connector-form.js';
import { fieldGroup } from './entity-detail.js';

/** @typedef {import('../openapi').Operations['createConnector']['body']} ConnectorInput */

/**
 * What differs between the two types: their upstream's fields (config member, label, hint) and
 * the claims their mapping names.
 * @typedef {{
 *   type: 'oidc' | 'oauth2',
 *   title: string,
 *   upstream: Array<[string, string, string]>,
 *   claims: Array<[string, string]>,
 *   scopesHint: string,
 *   flags: Array<[string, string, string]>,
 * }} Kind
 */

/** @type {Kind} */
const OIDC = {
  type: 'oidc',
  title: 'OpenID Connect connector',
  upstream: [
    [
      'issuer',
      'Issuer URL',
      'Exactly the upstream’s issuer, e.g. https://login.microsoftonline.com/<tenant>/v2.0 (discovery: issuer + /.well-known/openid-configuration)',
    ],
  ],
  claims: [
    ['username', 'preferred_username'],
    ['email', 'email'],
    ['name', 'name'],
    ['groups', 'groups'],
  ],
  scopesHint: 'Comma-separated; empty for the default: openid, profile, email',
  flags: [
    [
      'trustEmail',
      'Trust the upstream’s email addresses',
      'Only when the upstream owns every address (it does not send email_verified): otherwise an unverified email is not carried',
    ],
    [
      'allowInsecureIssuer',
      'Allow an http:// issuer (development only)',
      'Whoever sits on the network path can then answer as the upstream',
    ],
  ],
};

/** @type {Kind} */
const OAUTH2 = {
  type: 'oauth2',
  title: 'OAuth 2.0 connector',
  upstream: [
    [
      'authorizationUrl',
      'Authorization URL',
      'Where the browser signs in, e.g. https://github.com/login/oauth/authorize',
    ],
    ['tokenUrl', 'Token URL', 'e.g. https://github.com/login/oauth/access_token'],
    [
      'userinfoUrl',
      'User info URL',
      'The JSON whose members the claims below map, e.g. https://api.github.com/user',
    ],
    [
      'groupsUrl',
      'Groups URL (optional)',
      'A JSON array mapped to group names, e.g. https://api.github.com/user/orgs',
    ],
  ],
  claims: [
    ['id', 'id'],
    ['username', 'login'],
    ['email', 'email'],
    ['name', 'name'],
    ['groups', '[].login'],
  ],
  scopesHint: 'Comma-separated, e.g. read:user, read:org',
  flags: [
    [
      'trustEmail',
      'Trust the upstream’s email addresses',
      'OAuth 2.0 says nothing of verification: only when the upstream verifies every address is the email carried',
    ],
  ],
};

/**
 * @param {import('../navigation.js').Drawing} draw
 * @param {string} id the connector's id, or `new`
 */
export const oidcPage = (draw, id) => federationPage(draw, OIDC, id);

/**
 * @param {import('../navigation.js').Drawing} draw
 * @param {string} id the connector's id, or `new`
 */
export const oauth2Page = (draw, id) => federationPage(draw, OAUTH2, id);

/**
 * @param {import('../navigation.js').Drawing} draw
 * @param {Kind} kind
 * @param {string} id
 */
async function federationPage(draw, kind, id) {
  const isNew = id === 'new';
  const loaded = await loadConnector(draw, id, {});
  if (!loaded) return;
  const { current, etag } = loaded;
  const c = current.config;
  const claims = /** @type {Record<string, string>} */ (c.claims ?? {});
  const region = h('div', { 'aria-live': 'polite' });
  const redirectUri = h(
    'code',
    { id: 'redirect-uri' },
    current.redirectUri ?? `${lockIssuer()}/sso/<connector id>/callback`,
  );
  const form = h(
    'form',
    { class: 'panel', novalidate: true },
    h(
      'fieldset',
      {},
      h('legend', {}, 'Connector'),
      h(
        'div',
        { class: 'grid' },
        identityFields(
          isNew,
          current,
          'Letters, digits, _ . : - (appears in tokens as idp and in the redirect URI)',
        ),
      ),
      h(
        'p',
        { class: 'redirect-uri' },
        h('strong', {}, 'Redirect URI to register at the upstream: '),
        redirectUri,
      ),
    ),
    fieldGroup(
      'Upstream',
      kind.upstream.map(([member, label, hint]) =>
        field(label, member, {
          type: 'url',
          value: /** @type {string} */ (c[member] ?? ''),
          path: `config.${member}`,
          hint,
          wide: true,
        }),
      ),
      field('Client ID', 'clientId', {
        value: /** @type {string} */ (c.clientId ?? ''),
        path: 'config.clientId',
      }),
      field('Client secret', 'clientSecret', {
        type: 'password',
        path: 'config.clientSecret',
        hint: current.setSecrets.includes('clientSecret')
          ? 'Set — leave empty to keep it (a changed upstream URL needs it again)'
          : 'Write-only: never shown again',
      }),
      field('Scopes', 'scopes', {
        value: /** @type {string[]} */ (c.scopes ?? []).join(', '),
        path: 'config.scopes',
        hint: kind.scopesHint,
      }),
      kind.flags.map(([member, label, hint]) =>
        field(label, member, {
          type: 'checkbox',
          value: c[member] === true,
          path: `config.${member}`,
          hint,
        }),
      ),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Claims mapping'),
      h(
        'p',
        { class: 'muted' },
        'Dot paths into the upstream’s claims (user info merged); empty for the default.',
      ),
      h(
        'div',
        { class: 'grid' },
        kind.claims.map(([claim, example]) =>
          field(`Claim ${claim}`, `claim-${claim}`, {
            value: claims[claim] ?? '',
            path: `config.claims.${claim}`,
            placeholder: example,
          }),
        ),
      ),
    ),
    region,
  );
  if (isNew) {
    const idInput = /** @type {HTMLInputElement} */ (form.elements.namedItem('id'));
    idInput.addEventListener('input', () => {
      redirectUri.textContent = `${lockIssuer()}/sso/${encodeURIComponent(idInput.value.trim() || '<connector id>')}/callback`;
    });
  }

  /** @returns {ConnectorInput} */
  const body = () => {
    /** @type {Record<string, unknown>} */
    const config = { ...c };
    /** @param {string} key @param {unknown} value */
    const set = (key, value) => {
      if (value === '' || (Array.isArray(value) && value.length === 0)) delete config[key];
      else config[key] = value;
    };
    for (const [member] of kind.upstream) set(member, formValue(form, member));
    set('clientId', formValue(form, 'clientId'));
    set('clientSecret', rawValue(form, 'clientSecret'));
    set('scopes', list(formValue(form, 'scopes')));
    for (const [member] of kind.flags) config[member] = formChecked(form, member);
    /** @type {Record<string, string>} */
    const mapping = { ...claims };
    for (const [claim] of kind.claims) {
      const path = formValue(form, `claim-${claim}`);
      if (path) mapping[claim] = path;
      else delete mapping[claim];
    }
    if (Object.keys(mapping).length > 0) config.claims = mapping;
    else delete config.claims;
    return /** @type {ConnectorInput} */ (
      /** @type {unknown} */ ({
        id: isNew ? formValue(form, 'id') : current.id,
        type: kind.type,
        name: formValue(form, 'name'),
        config,
      })
    );
  };

  form.append(
    connectorActions({
      form,
      region,
      current,
      etag,
      body,
      test: () => ({}),
      saved: (connector) => ({
        message: `Connector ${connector.id} saved. Register its redirect URI at the upstream.`,
        next: `#/connectors/${kind.type}/${encodeURIComponent(connector.id)}`,
      }),
    }),
  );
  draw.show(h('h1', {}, isNew ? `New ${kind.title}` : `${kind.title} ${current.id}`), form);
}
