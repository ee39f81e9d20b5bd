// @ts-check
// What the LDAP, SAML, OpenID Connect and OAuth 2.0 connector pages share: reading the connector
// edited (with its ETag), the ID and display name, the buttons (save, test, delete, cancel), the
// connection test on the draft, and saving (the server tests again and answers with the report
// when the test fails; a 412 says someone else changed it).
import { api } from '../api.js';
import { field, h } from '../dom.js';
import { flash, go } from '../navigation.js';
import { testReport } from './connectors.js';
import { deleteEntity, saveFailed } from './entity-detail.js';

/** @typedef {import('../openapi').Operations['createConnector']['body']} ConnectorInput */
/** @typedef {import('../openapi').Connector} Connector */

/** Lock's issuer as the console sees it: the console is served at <issuer>/admin. */
export const lockIssuer = () => `${location.origin}${location.pathname.replace(/\/admin\/?$/, '')}`;

/**
 * The connector `id` edited, with its ETag; on a failure the page says so and this gives undefined.
 * `id` = `new`: an empty draft of `blank`.
 * @param {import('../navigation.js').Drawing} draw
 * @param {string} id
 * @param {Partial<Connector>} blank
 * @returns {Promise<{ current: Partial<Connector> & { config: Record<string, unknown>, setSecrets: string[] }, etag: string | null } | undefined>}
 */
export async function loadConnector(draw, id, blank) {
  if (id === 'new')
    return { current: { id: '', name: '', setSecrets: [], config: {}, ...blank }, etag: null };
  const result = await api('getConnector', { params: { id } });
  if (!result.ok) {
    draw.show(
      h('h1', {}, 'Connector'),
      h('p', { class: 'alert error', role: 'alert' }, result.data?.error ?? 'Not found'),
      h('a', { class: 'button', href: '#/connectors' }, 'Back to connectors'),
    );
    return undefined;
  }
  return {
    current: { ...result.data, config: /** @type {Record<string, unknown>} */ (result.data.config) },
    etag: result.etag,
  };
}

/**
 * The ID (typed once: it is in tokens and URLs) and the display name.
 * @param {boolean} isNew
 * @param {Partial<Connector>} current
 * @param {string} idHint
 * @param {string} [nameHint]
 */
export function identityFields(
  isNew,
  current,
  idHint,
  nameHint = 'The login page shows “Sign in with <name>”',
) {
  const id = isNew
    ? field('ID', 'id', { path: 'id', hint: idHint, required: true })
    : field('ID', 'id', { value: current.id ?? '', path: 'id', hint: 'Cannot change' });
  /** @type {HTMLInputElement} */ (id.querySelector('input')).readOnly = !isNew;
  return [
    id,
    field('Display name', 'name', {
      value: current.name ?? '',
      path: 'name',
      required: true,
      hint: nameHint,
    }),
  ];
}

/**
 * A connector form's buttons and behaviour: Create/Save (tested by the server), Test connection
 * (on the draft, when `test` is given), Delete (an existing connector of admins), Cancel.
 * @param {{
 *   form: HTMLFormElement,
 *   region: HTMLElement,
 *   current: Partial<Connector>,
 *   etag: string | null,
 *   body: () => ConnectorInput,
 *   test?: () => Partial<import('../openapi').Operations['testConnectorDraft']['query']>,
 *   saved: (connector: Connector) => { message: string, next: string },
 * }} options
 */
export function connectorActions({ form, region, current, etag, body, test, saved }) {
  const isNew = !current.id;
  const what = `connector ${current.id}`;
  const runTest = async () => {
    const button = /** @type {HTMLButtonElement} */ (form.querySelector('#test-connection'));
    button.disabled = true;
    region.replaceChildren(h('p', { class: 'muted', role: 'status' }, 'Testing the connection…'));
    const result = await api('testConnectorDraft', { query: test?.() ?? {}, body: body() });
    button.disabled = false;
    if (!result.ok) return saveFailed(region, form, result, what);
    region.replaceChildren(testReport(result.data));
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    region.replaceChildren(h('p', { class: 'muted', role: 'status' }, 'Testing and saving…'));
    const result = isNew
      ? await api('createConnector', { body: body() })
      : await api('replaceConnector', { params: { id: current.id ?? '' }, body: body(), etag });
    if (!result.ok) {
      saveFailed(region, form, result, what);
      if (result.data?.test) region.append(testReport(result.data.test));
      return;
    }
    const { message, next } = saved(result.data);
    flash(message);
    go(next);
  });
  return h(
    'div',
    { class: 'buttons' },
    h('button', { type: 'submit', class: 'primary' }, isNew ? 'Create connector' : 'Save connector'),
    test && h('button', { type: 'button', id: 'test-connection', onclick: runTest }, 'Test connection'),
    !isNew &&
      !current.managedBy &&
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          onclick: () =>
            deleteEntity(
              'deleteConnector',
              { id: current.id ?? '' },
              {
                what,
                consequences:
                  'Its sign-in button or password check goes from the login page at once; people who signed in through it keep their sessions until they end. Lock refuses while a role mapping names it.',
                etag,
                region,
                back: '#/connectors',
              },
            ),
        },
        'Delete connector',
      ),
    h('a', { class: 'button', href: '#/connectors' }, 'Cancel'),
  );
}
