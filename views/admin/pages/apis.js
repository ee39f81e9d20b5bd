// @ts-check
// APIs (resources): the audiences Lock issues access tokens for — the list and a new API (#/apis),
// one API's page to edit or delete it (#/apis/<identifier>). Signing algorithms, token formats and
// the default lifetime come from the API document; the roles from the roles there are.
import { api } from '../api.js';
import { optionsOf, requestSchema, schemaAt } from '../api-document.js';
import { roleChoices, selectedFirst } from '../choices.js';
import { field, formChecked, formList, formValue, h, list, owner, showError } from '../dom.js';
import { flash, route } from '../navigation.js';
import {
  detailForm,
  entityList,
  hashOf,
  notFoundPage,
  openLink,
  showDetail,
  subPath,
} from './entity-detail.js';

/** @typedef {import('../openapi').Operations['createResource']['body']} ResourceInput */
/** @typedef {import('../openapi').Resource} Resource */

const TOKEN_FORMAT_LABELS = { jwt: 'JWT (verified offline with the JWKS)', opaque: 'Opaque (introspected)' };

/** @param {import('../navigation.js').Drawing} draw */
export async function apisPage(draw) {
  const [id] = subPath();
  return id === undefined ? apiList(draw) : apiDetail(draw, id);
}

async function apiFormChoices() {
  const [schema, roles] = await Promise.all([requestSchema('createResource'), roleChoices()]);
  return { schema, roles };
}

/**
 * @param {Partial<Resource> | null} current
 * @param {Awaited<ReturnType<typeof apiFormChoices>>} choices
 */
function resourceFields(current, { schema, roles }) {
  const r = current ?? {};
  const signingAlg = schemaAt(schema, 'signingAlg');
  const accessTokenFormat = schemaAt(schema, 'accessTokenFormat');
  const grid = h(
    'div',
    { class: 'grid' },
    field('Identifier (audience URL)', 'id', {
      type: 'url',
      value: r.id ?? '',
      path: 'id',
      placeholder: 'https://api.example.com',
      required: true,
      hint: current ? 'Cannot change' : 'Cannot change later',
    }),
    field('Scopes', 'scopes', {
      value: (r.scopes ?? []).join(' '),
      path: 'scopes',
      hint: 'Separated by spaces, e.g. read write',
    }),
    field('Roles in its tokens', 'roles', {
      type: 'picks',
      value: r.roles ?? [],
      // Its roles first, in its order: the first a caller holds is its role claim.
      options: selectedFirst(roles, r.roles ?? []),
      path: 'roles',
      wide: true,
      hint: 'Only these appear in its tokens; the first a caller holds, in this order, is the role claim',
    }),
    field('Role claim (optional)', 'roleClaim', {
      value: r.roleClaim ?? '',
      path: 'roleClaim',
      hint: 'A single-string claim, e.g. role for PostgREST',
    }),
    field('Default role', 'defaultRole', {
      value: r.defaultRole ?? '',
      path: 'defaultRole',
      hint: 'The role claim of a caller who holds none of the roles',
    }),
    field('Access token lifetime (s)', 'accessTokenTTL', {
      type: 'number',
      value: String(r.accessTokenTTL ?? schemaAt(schema, 'accessTokenTTL').default ?? ''),
      path: 'accessTokenTTL',
    }),
    field('Signing algorithm', 'signingAlg', {
      type: 'select',
      value: r.signingAlg ?? String(signingAlg.default),
      path: 'signingAlg',
      options: optionsOf(signingAlg, {}),
    }),
    field('Access token format', 'accessTokenFormat', {
      type: 'select',
      value: r.accessTokenFormat ?? String(accessTokenFormat.default),
      path: 'accessTokenFormat',
      options: optionsOf(accessTokenFormat, TOKEN_FORMAT_LABELS),
    }),
    field('Require DPoP (sender-constrained tokens)', 'requireDpop', {
      type: 'checkbox',
      value: r.requireDpop,
      path: 'requireDpop',
    }),
  );
  /** @type {HTMLInputElement} */ (grid.querySelector('input[name="id"]')).readOnly = current !== null;
  return grid;
}

/**
 * @param {HTMLFormElement} form
 * @param {Partial<Resource> | null} current members the form does not show are kept
 * @returns {ResourceInput}
 */
function resourceBody(form, current) {
  const { managedBy: _, roleClaim: _claim, defaultRole: _default, ...kept } = current ?? {};
  /** @type {ResourceInput} */
  const body = {
    ...kept,
    id: current?.id ?? formValue(form, 'id'),
    scopes: list(formValue(form, 'scopes').replace(/\s+/g, ',')),
    roles: formList(form, 'roles'),
    accessTokenTTL: Number(formValue(form, 'accessTokenTTL')),
    signingAlg: /** @type {ResourceInput['signingAlg']} */ (formValue(form, 'signingAlg')),
    accessTokenFormat: /** @type {ResourceInput['accessTokenFormat']} */ (
      formValue(form, 'accessTokenFormat')
    ),
    requireDpop: formChecked(form, 'requireDpop'),
  };
  if (formValue(form, 'roleClaim')) body.roleClaim = formValue(form, 'roleClaim');
  if (formValue(form, 'defaultRole')) body.defaultRole = formValue(form, 'defaultRole');
  return body;
}

/** @param {import('../navigation.js').Drawing} draw */
async function apiList(draw) {
  const choices = await apiFormChoices();
  const region = h('div', { 'aria-live': 'polite' });
  /** @type {import('./entity-detail.js').EntityListOptions<Resource>['columns']} */
  const columns = [
    {
      label: 'Identifier',
      kind: 'id',
      cell: (r) => [h('a', { href: hashOf('apis', r.id) }, h('code', {}, r.id)), ' ', owner(r.managedBy)],
    },
    { label: 'Scopes', cell: (r) => r.scopes.join(' ') },
    { label: 'Roles', cell: (r) => r.roles.join(', ') },
    { label: 'Role claim', cell: (r) => (r.roleClaim ? h('code', {}, r.roleClaim) : '') },
    { label: 'Token', cell: (r) => (r.accessTokenFormat === 'opaque' ? 'opaque' : r.signingAlg) },
    { label: 'Token lifetime', cell: (r) => `${r.accessTokenTTL} s` },
    {
      label: 'Actions',
      kind: 'actions',
      cell: (r) => openLink(hashOf('apis', r.id), `API ${r.id}`, r.managedBy),
    },
  ];
  const apis = entityList({
    section: 'apis',
    operation: 'listResources',
    caption: 'APIs',
    noun: 'API',
    columns,
  });
  const form = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-labelledby': 'new-api' },
    h('h2', { id: 'new-api' }, 'New API'),
    resourceFields(null, choices),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create API')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const created = await api('createResource', { body: resourceBody(form, null) });
    if (!created.ok) return showError(form, form, created);
    flash(`API ${created.data.id} created.`);
    await route();
  });
  draw.show(h('h1', {}, 'APIs'), region, apis, form);
  draw.setRegion(region);
  await apis.loaded;
}

/**
 * @param {import('../navigation.js').Drawing} draw
 * @param {string} id
 */
async function apiDetail(draw, id) {
  const [result, choices] = await Promise.all([api('getResource', { params: { id } }), apiFormChoices()]);
  if (!result.ok) return notFoundPage(draw, `API ${id}`, result, '#/apis', 'Back to APIs');
  const resource = result.data;
  const what = `API ${id}`;
  const editable = !resource.managedBy;
  const region = h('div', { 'aria-live': 'polite' });
  const form = detailForm({
    label: `Settings of API ${id}`,
    fields: resourceFields(resource, choices),
    editable,
    region,
    what,
    save: (form) =>
      api('replaceResource', { params: { id }, body: resourceBody(form, resource), etag: result.etag }),
    remove: {
      operation: 'deleteResource',
      params: { id },
      consequences:
        'Lock stops issuing tokens for it; tokens already issued stay valid until they expire. Lock refuses while a client still uses it.',
      etag: () => result.etag,
      back: '#/apis',
      label: 'Delete API',
    },
  });
  showDetail(
    draw,
    {
      back: '#/apis',
      backLabel: 'APIs',
      name: id,
      title: `API ${id}`,
      managedBy: resource.managedBy,
      region,
    },
    form,
  );
}
