// @ts-check
// Connectors: the list in login order, with test, edit and delete; and the connection test report
// the LDAP form shows too.
import { api, expectOk } from '../api.js';
import { h, owner, show, showError, table } from '../dom.js';
import { go } from '../navigation.js';

/** @typedef {import('../openapi').ConnectionTestReport} ConnectionTestReport */
/** @typedef {import('../openapi').Connector} Connector */

const seg = encodeURIComponent;

/** @param {Connector} c */
function serverOf(c) {
  const config = /** @type {Record<string, unknown>} */ (c.config);
  if (c.type === 'ldap')
    return h(
      'code',
      {},
      /** @type {string} */ (config.url ?? /** @type {string[]} */ (config.urls ?? []).join(' ')),
    );
  if (c.type === 'saml')
    return /** @type {string} */ (config.idpMetadataUrl ?? (config.idpMetadataXml ? 'metadata XML' : ''));
  if (String(c.type) === 'oidc') return h('code', {}, /** @type {string} */ (config.issuer ?? ''));
  if (String(c.type) === 'oauth2')
    return h('code', {}, /** @type {string} */ (config.authorizationUrl ?? ''));
  return '';
}

export async function connectorsPage() {
  const { items } = expectOk(await api('listConnectors'));
  const region = h('div');
  const rows = items.map((c) => {
    const page = c.type === 'local' ? undefined : `#/connectors/${c.type}/${seg(c.id)}`;
    return h(
      'tr',
      {},
      h(
        'td',
        { 'data-label': 'ID' },
        page ? h('a', { href: page }, h('code', {}, c.id)) : h('code', {}, c.id),
      ),
      h('td', { 'data-label': 'Name' }, c.name, ' ', owner(c.managedBy)),
      h('td', { 'data-label': 'Type' }, c.type.toUpperCase()),
      h('td', { 'data-label': 'Server / IdP' }, serverOf(c)),
      h(
        'td',
        { class: 'actions' },
        page &&
          h(
            'a',
            { class: 'button', href: page, 'aria-label': `Open connector ${c.id}` },
            c.managedBy ? 'View' : 'Edit',
          ),
        page &&
          h(
            'button',
            {
              type: 'button',
              'aria-label': `Test connector ${c.id}`,
              onclick: () => testSaved(c.id, region),
            },
            'Test',
          ),
      ),
    );
  });
  show(
    h('h1', {}, 'Connectors'),
    h(
      'p',
      { class: 'muted' },
      'Where people sign in, in login order: the first password connector that knows a user decides.',
    ),
    h(
      'div',
      { class: 'toolbar' },
      h(
        'button',
        { type: 'button', class: 'primary', onclick: () => go('#/connectors/ldap/new') },
        'New LDAP connector',
      ),
      h('button', { type: 'button', onclick: () => go('#/connectors/saml/new') }, 'New SAML connector'),
      h(
        'button',
        { type: 'button', onclick: () => go('#/connectors/oidc/new') },
        'New OpenID Connect connector',
      ),
      h(
        'button',
        { type: 'button', onclick: () => go('#/connectors/oauth2/new') },
        'New OAuth 2.0 connector',
      ),
    ),
    region,
    table(['ID', 'Name', 'Type', 'Server / IdP', ''], rows),
  );
}

/**
 * @param {string} id
 * @param {HTMLElement} region
 */
async function testSaved(id, region) {
  region.replaceChildren(h('p', { class: 'muted', role: 'status' }, `Testing ${id}…`));
  const result = await api('testConnector', { params: { id }, body: {} });
  if (!result.ok) return showError(region, null, result);
  region.replaceChildren(testReport(result.data));
}

/** @param {ConnectionTestReport} report */
export function testReport(report) {
  return h(
    'section',
    {
      class: `alert ${report.ok ? 'ok' : 'error'}`,
      role: 'status',
      'aria-label': 'Connection test',
      id: 'test-report',
    },
    h('strong', {}, report.ok ? 'Connection test passed' : 'Connection test failed'),
    report.url && [' — ', h('code', {}, report.url)],
    h(
      'ul',
      { class: 'steps' },
      report.steps.map((s) =>
        h(
          'li',
          { 'data-step': s.step, 'data-ok': String(s.ok) },
          h('span', { class: s.ok ? 'pass' : 'fail' }, s.ok ? '✓ passed' : '✗ failed'),
          h('strong', {}, s.step),
          h('span', {}, s.detail),
          h('span', { class: 'muted' }, `${Math.round(s.durationMs)} ms`),
        ),
      ),
    ),
  );
}
