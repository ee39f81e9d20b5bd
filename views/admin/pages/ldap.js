// @ts-check
// The LDAP connector form: create or edit, "Test connection" on the draft, save (the server tests
// again and answers with the report when the test fails), delete. The group search modes come from
// the API document; what every connector form shares is in connector-form.js.
import { optionsOf, requestSchema, schemaAt } from '../api-document.js';
import { field, formChecked, formValue, h, list, rawValue } from '../dom.js';
import { connectorActions, identityFields, loadConnector } from './connector-form.js';
import { fieldGroup } from './entity-detail.js';

/** @typedef {import('../openapi').Operations['createConnector']['body']} ConnectorInput */
/** @typedef {Extract<ConnectorInput, { type: 'ldap' }>['config']} LdapConfig */
/** @typedef {NonNullable<LdapConfig['groupSearch']>} GroupSearch */

const GROUP_MODE_LABELS = {
  memberOf: 'memberOf attribute',
  search: 'Search groups',
  nested: 'Nested groups',
  adInChain: 'AD in-chain (nested)',
};

/**
 * @param {import('../navigation.js').Drawing} draw
 * @param {string} id the connector's id, or `new`
 */
export async function ldapPage(draw, id) {
  const isNew = id === 'new';
  const [loaded, schema] = await Promise.all([
    loadConnector(draw, id, { config: { startTLS: true, userSearch: {}, groupSearch: {} } }),
    requestSchema('createConnector'),
  ]);
  if (!loaded) return;
  const { current, etag } = loaded;
  const c = /** @type {Partial<LdapConfig>} */ (current.config);
  const us = c.userSearch ?? /** @type {Partial<LdapConfig['userSearch']>} */ ({});
  const gs = c.groupSearch ?? /** @type {GroupSearch} */ ({});
  const modes = optionsOf(schemaAt(schema, 'type=ldap', 'config', 'groupSearch', 'mode'), GROUP_MODE_LABELS);
  const region = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'panel', novalidate: true },
    fieldGroup(
      'Connector',
      identityFields(
        isNew,
        current,
        'Letters, digits, _ . : - (appears in tokens as idp)',
        'What admins and the audit log call it',
      ),
    ),
    fieldGroup(
      'Server',
      field('Server URL', 'url', {
        value: c.url ?? '',
        path: 'config.url',
        placeholder: 'ldaps://dc.example.com',
        hint: 'ldap:// with StartTLS, or ldaps://',
      }),
      field('Use StartTLS', 'startTLS', { type: 'checkbox', value: c.startTLS, path: 'config.startTLS' }),
      field('Active Directory', 'activeDirectory', {
        type: 'checkbox',
        value: c.activeDirectory,
        path: 'config.activeDirectory',
      }),
      field('CA certificate file (on the Lock server)', 'caFile', {
        value: c.caFile ?? '',
        path: 'config.caFile',
        hint: 'Optional; or paste the PEM below',
      }),
      field('CA certificate (PEM)', 'caCert', {
        type: 'textarea',
        value: c.caCert ?? '',
        path: 'config.caCert',
        wide: true,
        rows: 3,
      }),
      field('Bind DN', 'bindDN', {
        value: c.bindDN ?? '',
        path: 'config.bindDN',
        placeholder: 'cn=svc-lock,ou=services,dc=example,dc=com',
      }),
      field('Bind password', 'bindPassword', {
        type: 'password',
        path: 'config.bindPassword',
        hint: current.setSecrets.includes('bindPassword')
          ? 'Set — leave empty to keep it'
          : 'Write-only: never shown again',
      }),
    ),
    fieldGroup(
      'User search',
      field('Base DN', 'userBase', {
        value: us.baseDN ?? '',
        path: 'config.userSearch.baseDN',
        placeholder: 'ou=people,dc=example,dc=com',
      }),
      field('Filter', 'userFilter', {
        value: us.filter ?? '',
        path: 'config.userSearch.filter',
        placeholder: '(objectClass=person)',
      }),
      field('Username attributes', 'usernameAttributes', {
        value: (us.usernameAttributes ?? []).join(', '),
        path: 'config.userSearch.usernameAttributes',
        hint: 'Comma-separated; empty for the default (uid, mail / sAMAccountName, userPrincipalName)',
      }),
    ),
    fieldGroup(
      'Group search',
      field('Mode', 'groupMode', {
        type: 'select',
        value: c.groupSearch ? (gs.mode ?? '') : 'none',
        path: 'config.groupSearch.mode',
        options: [['none', 'No groups'], ...modes],
      }),
      field('Base DN', 'groupBase', {
        value: gs.baseDN ?? '',
        path: 'config.groupSearch.baseDN',
        placeholder: 'ou=groups,dc=example,dc=com',
      }),
    ),
    fieldGroup(
      'Test',
      field('Look up this user (optional)', 'testUser', {
        hint: 'The test then also searches this user and their groups',
      }),
    ),
    region,
  );

  /** @returns {Extract<ConnectorInput, { type: 'ldap' }>} */
  const body = () => {
    /** @type {Record<string, unknown>} */
    const config = { ...c };
    /** @param {string} key @param {string} value */
    const set = (key, value) => {
      if (value === '') delete config[key];
      else config[key] = value;
    };
    set('url', formValue(form, 'url'));
    config.startTLS = formChecked(form, 'startTLS');
    config.activeDirectory = formChecked(form, 'activeDirectory');
    set('caFile', formValue(form, 'caFile'));
    set('caCert', formValue(form, 'caCert'));
    set('bindDN', formValue(form, 'bindDN'));
    set('bindPassword', rawValue(form, 'bindPassword'));
    /** @type {Record<string, unknown>} */
    const userSearch = { ...us, baseDN: formValue(form, 'userBase') };
    const filter = formValue(form, 'userFilter');
    if (filter) userSearch.filter = filter;
    else delete userSearch.filter;
    const attrs = list(formValue(form, 'usernameAttributes'));
    if (attrs.length > 0) userSearch.usernameAttributes = attrs;
    else delete userSearch.usernameAttributes;
    config.userSearch = userSearch;
    const mode = formValue(form, 'groupMode');
    if (mode === 'none') delete config.groupSearch;
    else {
      /** @type {Record<string, unknown>} */
      const groupSearch = { ...gs, mode };
      const base = formValue(form, 'groupBase');
      if (base) groupSearch.baseDN = base;
      else delete groupSearch.baseDN;
      config.groupSearch = groupSearch;
    }
    return {
      id: isNew ? formValue(form, 'id') : (current.id ?? ''),
      type: 'ldap',
      name: formValue(form, 'name'),
      config: /** @type {LdapConfig} */ (config),
    };
  };

  form.append(
    connectorActions({
      form,
      region,
      current,
      etag,
      body,
      test: () => (formValue(form, 'testUser') ? { username: formValue(form, 'testUser') } : {}),
      saved: (connector) => ({ message: `Connector ${connector.id} saved.`, next: '#/connectors' }),
    }),
  );
  draw.show(h('h1', {}, isNew ? 'New LDAP connector' : `LDAP connector ${current.id}`), form);
}
