// @ts-check
// APIs (resources): the audiences Lock issues access tokens for. Signing algorithms, token formats
// and the default lifetime come from the API document.
import { api, expectOk } from '../api.js';
import { optionsOf, requestSchema, schemaAt } from '../api-document.js';
import { field, formChecked, formValue, h, list, owner, show, showError, table } from '../dom.js';
import { confirmDelete, flash, route, setRegion } from '../navigation.js';

/** @typedef {import('../openapi').Operations['createResource']['body']} ResourceInput */

const TOKEN_FORMAT_LABELS = { jwt: 'JWT (verified offline with the JWKS)', opaque: 'Opaque (introspected)' };

export async function apisPage() {
  const [result, schema] = await Promise.all([api('listResources'), requestSchema('createResource')]);
  const { items } = expectOk(result);
  const region = h('div', { 'aria-live': 'polite' });
  const rows = items.map((r) =>
    h(
      'tr',
      {},
      h('td', {}, h('code', {}, r.id), ' ', owner(r.managedBy)),
      h('td', {}, r.scopes.join(' ')),
      h('td', {}, r.roles.join(', ')),
      h('td', {}, r.roleClaim ? h('code', {}, r.roleClaim) : ''),
      h('td', {}, r.accessTokenFormat === 'opaque' ? 'opaque' : r.signingAlg),
      h('td', {}, `${r.accessTokenTTL} s`),
      h(
        'td',
        { class: 'actions' },
        !r.managedBy &&
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: () =>
                confirmDelete('getResource', 'deleteResource', { id: r.id }, `API ${r.id}`, region),
            },
            'Delete',
          ),
      ),
    ),
  );
  const signingAlg = schemaAt(schema, 'signingAlg');
  const accessTokenFormat = schemaAt(schema, 'accessTokenFormat');
  const form = h(
    'form',
    { class: 'panel', novalidate: true },
    h('h2', {}, 'New API'),
    h(
      'div',
      { class: 'grid' },
      field('Identifier (audience URL)', 'id', {
        type: 'url',
        path: 'id',
        placeholder: 'https://api.example.com',
        required: true,
      }),
      field('Scopes', 'scopes', { path: 'scopes', hint: 'Comma-separated' }),
      field('Roles in its tokens', 'roles', { path: 'roles', hint: 'Comma-separated' }),
      field('Role claim (optional)', 'roleClaim', {
        path: 'roleClaim',
        hint: 'A single-string claim, e.g. role for PostgREST',
      }),
      field('Default role', 'defaultRole', { path: 'defaultRole' }),
      field('Access token lifetime (s)', 'accessTokenTTL', {
        type: 'number',
        value: String(schemaAt(schema, 'accessTokenTTL').default ?? ''),
        path: 'accessTokenTTL',
      }),
      field('Signing algorithm', 'signingAlg', {
        type: 'select',
        value: String(signingAlg.default),
        path: 'signingAlg',
        options: optionsOf(signingAlg, {}),
      }),
      field('Access token format', 'accessTokenFormat', {
        type: 'select',
        value: String(accessTokenFormat.default),
        path: 'accessTokenFormat',
        options: optionsOf(accessTokenFormat, TOKEN_FORMAT_LABELS),
      }),
      field('Require DPoP (sender-constrained tokens)', 'requireDpop', {
        type: 'checkbox',
        path: 'requireDpop',
      }),
    ),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create API')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    /** @type {ResourceInput} */
    const body = {
      id: formValue(form, 'id'),
      scopes: list(formValue(form, 'scopes')),
      roles: list(formValue(form, 'roles')),
      accessTokenTTL: Number(formValue(form, 'accessTokenTTL')),
      signingAlg: /** @type {ResourceInput['signingAlg']} */ (formValue(form, 'signingAlg')),
      accessTokenFormat: /** @type {ResourceInput['accessTokenFormat']} */ (
        formValue(form, 'accessTokenFormat')
      ),
      requireDpop: formChecked(form, 'requireDpop'),
    };
    if (formValue(form, 'roleClaim')) body.roleClaim = formValue(form, 'roleClaim');
    if (formValue(form, 'defaultRole')) body.defaultRole = formValue(form, 'defaultRole');
    const created = await api('createResource', { body });
    if (!created.ok) return showError(region, form, created);
    flash(`API ${created.data.id} created.`);
    await route();
  });
  show(
    h('h1', {}, 'APIs'),
    region,
    table(['Identifier', 'Scopes', 'Roles', 'Role claim', 'Token', 'Token lifetime', ''], rows),
    form,
  );
  setRegion(region);
}
