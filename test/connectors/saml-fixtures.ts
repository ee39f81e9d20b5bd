// Lock configurations for the SAML tests: the login fixtures' clients and roles, with SAML connectors.
import { appRolesAndApi, CALLBACK, webAppClient } from '../helpers/login-fixtures.ts';
import { samlConnectorYaml, simpleSamlPhp } from './saml-helpers.ts';

export const URI_ATTRIBUTES = {
  uid: 'urn:oid:0.9.2342.19200300.100.1.1',
  mail: 'urn:oid:0.9.2342.19200300.100.1.3',
  displayName: 'urn:oid:2.16.840.1.113730.3.1.241',
  isMemberOf: 'urn:oid:1.3.6.1.4.1.5923.1.5.1.1',
} as const;

/** A connector for the IdP's plain SP entry: transient NameID, the user id from `uid`, basic names. */
export const plainConnectorConfig = (extra: Record<string, unknown> = {}) => ({
  idpMetadataUrl: simpleSamlPhp().metadataUrl,
  // The test IdP serves its metadata over plain http (saml-config.test.ts proves that needs this flag).
  allowInsecureMetadataUrl: true,
  nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  userIdAttribute: 'uid',
  usernameAttribute: 'uid',
  emailAttribute: 'mail',
  nameAttribute: 'displayName',
  groupsAttribute: 'groups',
  claims: { affiliation: 'eduPersonAffiliation', login_id: 'uid' },
  ...extra,
});

/** SimpleSAMLphp's options for that entry: it signs both the Response and the assertion. */
export const PLAIN_IDP_OPTIONS = {
  'saml20.sign.response': true,
  'saml20.sign.assertion': true,
};

/**
 * A connector that signs its AuthnRequests and wants encrypted assertions in signed Responses,
 * a persistent NameID as the user id, URI attribute names and all groups in one ';'-joined value.
 */
export const secureConnectorConfig = (keys: { certificate: string; privateKey: string }) => ({
  idpMetadataUrl: simpleSamlPhp().metadataUrl,
  allowInsecureMetadataUrl: true,
  spCertificate: keys.certificate,
  spPrivateKey: keys.privateKey,
  signAuthnRequests: true,
  wantAssertionsEncrypted: true,
  wantResponseSigned: true,
  nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  usernameAttribute: URI_ATTRIBUTES.uid,
  emailAttribute: URI_ATTRIBUTES.mail,
  nameAttribute: URI_ATTRIBUTES.displayName,
  groupsAttribute: URI_ATTRIBUTES.isMemberOf,
  groupsDelimiter: ';',
  requestedAuthnContext: { classRefs: ['urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'] },
});

/** SimpleSAMLphp's options for it: encrypt, URI names, groups joined into one value. */
export const SECURE_IDP_OPTIONS = {
  'assertion.encryption': true,
  'attributes.NameFormat': 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
  authproc: {
    10: {
      class: 'core:PHP',
      code: '$attributes["groups"] = [implode(";", $attributes["groups"] ?? [])];',
    },
    20: {
      class: 'core:AttributeMap',
      uid: URI_ATTRIBUTES.uid,
      mail: URI_ATTRIBUTES.mail,
      displayName: URI_ATTRIBUTES.displayName,
      groups: URI_ATTRIBUTES.isMemberOf,
    },
  },
};

/** Lock with the web-app client, roles for the IdP's groups and the given SAML connectors. */
export function samlLockConfig(
  connectors: Array<{ id: string; name: string; config: Record<string, unknown> }>,
  callback = CALLBACK,
) {
  return `
${appRolesAndApi()}
clients:
${webAppClient({ redirectUri: callback })}
connectors:
  - { id: local, type: local, name: Lock account }
${connectors.map((connector) => samlConnectorYaml(connector.id, connector.name, connector.config)).join('')}
roleMappings:
${connectors
  .map(
    (connector) => `  - { connector: ${connector.id}, group: admins, roles: [app_admin] }
  - { connector: ${connector.id}, group: users, roles: [app_readonly] }
`,
  )
  .join('')}`;
}
