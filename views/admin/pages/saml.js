// @ts-check
// SAML connectors: create from IdP metadata (URL or XML), re-import metadata, download Lock's SP
// metadata.
import { api } from '../api.js';
import { field, formValue, h, owner, show, showError, showOk } from '../dom.js';
import { flash, go } from '../navigation.js';

/** @typedef {Extract<import('../openapi').Operations['createConnector']['body'], { type: 'saml' }>['config']} SamlConfig */

/** @param {string} id the connector's id, or `new` */
export async function samlPage(id) {
  const region = h('div', { 'aria-live': 'polite' });
  if (id === 'new') return newSamlConnector(region);
  const result = await api('getConnector', { params: { id } });
  if (!result.ok)
    return show(
      h('h1', {}, 'Connector'),
      h('p', { class: 'alert error', role: 'alert' }, result.data?.error ?? 'Not found'),
    );
  const c = result.data;
  const config = /** @type {Partial<SamlConfig>} */ (c.config);
  const form = h(
    'form',
    { class: 'panel', novalidate: true },
    h('h2', {}, 'Import IdP metadata'),
    h(
      'div',
      { class: 'grid' },
      field('Metadata URL', 'url', {
        type: 'url',
        path: 'url',
        value: config.idpMetadataUrl ?? '',
        wide: true,
      }),
      field('…or metadata XML', 'xml', { type: 'textarea', path: 'xml', wide: true, rows: 6 }),
    ),
    region,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Import metadata')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const xml = formValue(form, 'xml');
    const imported = await api('importIdpMetadata', {
      params: { id },
      body: xml ? { xml } : { url: formValue(form, 'url') },
      etag: result.etag,
    });
    if (!imported.ok) return showError(region, form, imported);
    showOk(region, 'IdP metadata imported.');
  });
  const download = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        const metadata = await api('getSpMetadata', { params: { id } });
        if (!metadata.ok) return showError(region, form, metadata);
        const link = h('a', {
          href: URL.createObjectURL(new Blob([metadata.data], { type: 'application/samlmetadata+xml' })),
          download: `lock-sp-metadata-${id}.xml`,
        });
        link.click();
      },
    },
    'Download SP metadata',
  );
  show(
    h('h1', {}, `SAML connector ${c.id}`),
    h('p', {}, c.name, ' ', owner(c.managedBy)),
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Lock as the service provider'),
      h('p', { class: 'muted' }, 'Give this metadata to the IdP’s administrator.'),
      download,
    ),
    form,
    h('a', { class: 'button', href: '#/connectors' }, 'Back to connectors'),
  );
}

/** @param {HTMLElement} region */
function newSamlConnector(region) {
  const form = h(
    'form',
    { class: 'panel', novalidate: true },
    h(
      'div',
      { class: 'grid' },
      field('ID', 'id', { path: 'id', required: true }),
      field('Display name', 'name', {
        path: 'name',
        required: true,
        hint: 'The login page shows “Sign in with <name>”',
      }),
      field('IdP metadata URL', 'metadataUrl', { type: 'url', path: 'config.idpMetadataUrl', wide: true }),
      field('…or IdP metadata XML', 'metadataXml', {
        type: 'textarea',
        path: 'config.idpMetadataXml',
        wide: true,
        rows: 6,
      }),
      field('Groups attribute', 'groupsAttribute', {
        path: 'config.groupsAttribute',
        hint: 'The assertion attribute that lists the user’s groups',
      }),
    ),
    region,
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary' }, 'Create connector'),
      h('a', { class: 'button', href: '#/connectors' }, 'Cancel'),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    /** @type {Partial<SamlConfig>} */
    const config = {};
    if (formValue(form, 'metadataUrl')) config.idpMetadataUrl = formValue(form, 'metadataUrl');
    if (formValue(form, 'metadataXml')) config.idpMetadataXml = formValue(form, 'metadataXml');
    if (formValue(form, 'groupsAttribute')) config.groupsAttribute = formValue(form, 'groupsAttribute');
    const result = await api('createConnector', {
      body: {
        id: formValue(form, 'id'),
        type: 'saml',
        name: formValue(form, 'name'),
        config: /** @type {SamlConfig} */ (config),
      },
    });
    if (!result.ok) return showError(region, form, result);
    flash(`Connector ${result.data.id} created.`);
    go(`#/connectors/saml/${encodeURIComponent(result.data.id)}`);
  });
  show(h('h1', {}, 'New SAML connector'), form);
}
