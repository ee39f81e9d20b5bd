// @ts-check
// Connectors: the list in login order, each opening its page (edit, delete) or tested from its row;
// and the connection test report the connector forms show too.
import { api } from '../api.js';
import { allItems } from '../choices.js';
import { h, owner, showError } from '../dom.js';
import { dataTable, rowButton } from '../lists.js';
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

/** @param {import('../navigation.js').Drawing} draw */
export async function connectorsPage(draw) {
  // Every connector, not a page of them: their order is the login order this list shows.
  const items = await allItems('listConnectors');
  const region = h('div');
  /** @param {Connector} c */
  const pageOf = (c) => (c.type === 'local' ? undefined : `#/connectors/${c.type}/${seg(c.id)}`);
  const list = dataTable(
    [
      {
        label: 'ID',
        kind: 'id',
        cell: (c) => {
          const page = pageOf(c);
          return page ? h('a', { href: page }, h('code', {}, c.id)) : h('code', {}, c.id);
        },
      },
      { label: 'Name', cell: (c) => [c.name, ' ', owner(c.managedBy)] },
      { label: 'Type', cell: (c) => c.type.toUpperCase() },
      { label: 'Server / IdP', kind: 'id', cell: serverOf },
      {
        label: 'Actions',
        kind: 'actions',
        cell: (c) => {
          const page = pageOf(c);
          return (
            page && [
              h(
                'a',
                { class: 'button', href: page, 'aria-label': `Open connector ${c.id}` },
                c.managedBy ? 'View' : 'Edit',
              ),
              ...rowButton('Test', `connector ${c.id}`, () => testSaved(c.id, region)),
            ]
          );
        },
      },
    ],
    items,
    'Connectors, in login order',
  );
  draw.show(
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
    list,
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
