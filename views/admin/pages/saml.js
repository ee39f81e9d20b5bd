// @ts-check
// SAML connectors: create or edit (IdP metadata by URL or XML, the attributes Lock reads), with
// Lock's side — its entity ID, ACS URL and metadata URL — shown from the first keystroke of the ID,
// before the connector exists, so the IdP's administrator can be given them at once. Re-import the
// IdP's metadata, download Lock's SP metadata, delete (connector-form.js).
import { api } from '../api.js';
import { field, formValue, h, owner, showError } from '../dom.js';
import { connectorActions, identityFields, loadConnector, lockIssuer } from './connector-form.js';
import { fieldGroup } from './entity-detail.js';

/** @typedef {Extract<import('../openapi').Operations['createConnector']['body'], { type: 'saml' }>['config']} SamlConfig */

const ATTRIBUTES = /** @type {const} */ ([
  ['groupsAttribute', 'Groups attribute', 'The assertion attribute that lists the user’s groups'],
  ['usernameAttribute', 'Username attribute', 'Empty: the NameID'],
  ['emailAttribute', 'Email attribute', ''],
  ['nameAttribute', 'Name attribute', 'The display name'],
]);

/**
 * Lock's URLs as a SAML service provider for the connector `id` (src/connectors/saml/saml-connector.ts
 * derives the same from the issuer): the entity ID is the metadata URL unless set.
 * @param {string} id
 * @param {string} [spEntityId]
 */
export function serviceProviderUrls(id, spEntityId) {
  const base = `${lockIssuer()}/saml/${encodeURIComponent(id || '<connector id>')}`;
  return {
    entityId: spEntityId || `${base}/metadata`,
    acsUrl: `${base}/acs`,
    metadataUrl: `${base}/metadata`,
  };
}

/**
 * @param {import('../navigation.js').Drawing} draw
 * @param {string} id the connector's id, or `new`
 */
export async function samlPage(draw, id) {
  const isNew = id === 'new';
  const loaded = await loadConnector(draw, id, {});
  if (!loaded) return;
  const { current, etag } = loaded;
  const c = /** @type {Partial<SamlConfig>} */ (current.config);
  const region = h('div', { 'aria-live': 'polite' });
  const spUrls = {
    entityId: h('code', { id: 'sp-entity-id' }),
    acsUrl: h('code', { id: 'sp-acs-url' }),
    metadataUrl: h('code', { id: 'sp-metadata-url' }),
  };
  const sp = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'sp-heading' },
    h('h2', { id: 'sp-heading' }, 'Lock as the service provider'),
    h(
      'p',
      { class: 'muted' },
      'Give these to the IdP’s administrator (or the SP metadata, which holds them).',
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Entity ID'),
      h('dd', {}, spUrls.entityId),
      h('dt', {}, 'ACS URL (HTTP-POST)'),
      h('dd', {}, spUrls.acsUrl),
      h('dt', {}, 'Metadata URL'),
      h('dd', {}, spUrls.metadataUrl),
    ),
    !isNew &&
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            const metadata = await api('getSpMetadata', { params: { id } });
            if (!metadata.ok) return showError(region, null, metadata);
            h('a', {
              href: URL.createObjectURL(new Blob([metadata.data], { type: 'application/samlmetadata+xml' })),
              download: `lock-sp-metadata-${id}.xml`,
            }).click();
          },
        },
        'Download SP metadata',
      ),
  );
  const form = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-label': isNew ? 'New SAML connector' : `SAML connector ${id}` },
    fieldGroup(
      'Connector',
      identityFields(
        isNew,
        current,
        'Letters, digits, _ . : - (appears in tokens as idp and in Lock’s URLs)',
      ),
    ),
    fieldGroup(
      'Identity provider',
      field('IdP metadata URL', 'metadataUrl', {
        type: 'url',
        value: c.idpMetadataUrl ?? '',
        path: 'config.idpMetadataUrl',
        wide: true,
        hint: c.idpMetadataXml ? 'Now from imported XML: a URL here replaces it' : 'Re-read every hour',
      }),
      field('…or IdP metadata XML', 'metadataXml', {
        type: 'textarea',
        path: 'config.idpMetadataXml',
        wide: true,
        rows: 4,
        hint: isNew ? 'Paste the XML when the IdP has no metadata URL' : 'Paste to replace the metadata',
      }),
      field('IdP entity ID (optional)', 'idpEntityId', {
        value: c.idpEntityId ?? '',
        path: 'config.idpEntityId',
        hint: 'When set, the metadata must describe this entity',
      }),
      field('Lock’s entity ID (optional)', 'spEntityId', {
        value: c.spEntityId ?? '',
        path: 'config.spEntityId',
        hint: 'Empty: Lock’s metadata URL',
      }),
    ),
    fieldGroup(
      'Attributes',
      ATTRIBUTES.map(([member, label, hint]) =>
        field(label, member, { value: c[member] ?? '', path: `config.${member}`, hint: hint || undefined }),
      ),
    ),
    region,
  );
  const idInput = /** @type {HTMLInputElement} */ (form.elements.namedItem('id'));
  const spEntityInput = /** @type {HTMLInputElement} */ (form.elements.namedItem('spEntityId'));
  const drawUrls = () => {
    const urls = serviceProviderUrls(idInput.value.trim(), spEntityInput.value.trim());
    spUrls.entityId.textContent = urls.entityId;
    spUrls.acsUrl.textContent = urls.acsUrl;
    spUrls.metadataUrl.textContent = urls.metadataUrl;
  };
  idInput.addEventListener('input', drawUrls);
  spEntityInput.addEventListener('input', drawUrls);
  drawUrls();

  /** @returns {import('../openapi').Operations['createConnector']['body']} */
  const body = () => {
    /** @type {Record<string, unknown>} */
    const config = { ...c };
    /** @param {string} key @param {string} value */
    const set = (key, value) => {
      if (value === '') delete config[key];
      else config[key] = value;
    };
    const url = formValue(form, 'metadataUrl');
    const xml = formValue(form, 'metadataXml');
    // Exactly one source of metadata: what was typed replaces the others.
    if (xml || url)
      for (const source of ['idpMetadataUrl', 'idpMetadataFile', 'idpMetadataXml']) delete config[source];
    if (xml) config.idpMetadataXml = xml;
    else if (url) config.idpMetadataUrl = url;
    set('idpEntityId', formValue(form, 'idpEntityId'));
    set('spEntityId', formValue(form, 'spEntityId'));
    for (const [member] of ATTRIBUTES) set(member, formValue(form, member));
    return {
      id: isNew ? formValue(form, 'id') : (current.id ?? ''),
      type: 'saml',
      name: formValue(form, 'name'),
      config: /** @type {SamlConfig} */ (config),
    };
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
        message: `Connector ${connector.id} saved. Give the IdP Lock’s entity ID and ACS URL (or its SP metadata).`,
        next: `#/connectors/saml/${encodeURIComponent(connector.id)}`,
      }),
    }),
  );
  draw.show(
    h('h1', {}, isNew ? 'New SAML connector' : `SAML connector ${id}`, ' ', owner(current.managedBy)),
    sp,
    form,
  );
}
