import { randomBytes } from 'node:crypto';
import { IdentityProvider, ServiceProvider, setSchemaValidator } from 'samlify';
import { type SamlConfig, SIGNATURE_ALGORITHMS } from './config.ts';
import type { IdpDescriptor } from './idp-metadata.ts';
import { schemaViolation } from './xml-schema.ts';

const POST_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

// samlify refuses to parse without a schema validator; Lock parses responses itself
// (response-validation.ts), but should any samlify parser run, it meets the real schema check.
setSchemaValidator({
  validate: async (xml: string) => {
    const violation = await schemaViolation(xml, 'protocol');
    if (violation) throw new Error(violation);
    return 'valid';
  },
});

/** Lock's side of one SAML connector: its entity ID, endpoints and keys. */
export interface SpSettings {
  entityId: string;
  acsUrl: string;
  config: SamlConfig;
}

/** The SP metadata document to give the IdP's admin (or the IdP's metadata import). */
export function spMetadataXml(sp: SpSettings): string {
  return createServiceProvider(sp).getMetadata();
}

/**
 * An AuthnRequest for the HTTP-Redirect binding (signed when configured): the URL to send the
 * browser to, and the request's ID, which the IdP's answer must name in InResponseTo.
 */
export function createAuthnRequest(
  sp: SpSettings,
  idp: IdpDescriptor,
  options: { relayState: string; forceAuthn: boolean; now: Date },
): { id: string; url: string } {
  const id = `_${randomBytes(20).toString('hex')}`;
  const { config } = sp;
  const xml = authnRequestXml({
    id,
    issueInstant: options.now.toISOString(),
    destination: idp.ssoRedirectUrl,
    acsUrl: sp.acsUrl,
    issuer: sp.entityId,
    nameIdFormat: config.nameIdFormat,
    forceAuthn: options.forceAuthn,
    ...(config.requestedAuthnContext && { requestedAuthnContext: config.requestedAuthnContext }),
  });
  const identityProvider = IdentityProvider({
    entityID: idp.entityId,
    signingCert: idp.signingCertificates,
    singleSignOnService: [{ Binding: REDIRECT_BINDING, Location: idp.ssoRedirectUrl }],
    // Never used (Lock sends no LogoutRequest); without one samlify warns on stderr at every login.
    singleLogoutService: [{ Binding: REDIRECT_BINDING, Location: idp.ssoRedirectUrl }],
    // Whether Lock signs is the connector's choice (checked against the IdP's wish by the caller).
    wantAuthnRequestsSigned: config.signAuthnRequests,
  });
  const { context } = createServiceProvider(sp).createLoginRequest(identityProvider, 'redirect', {
    relayState: options.relayState,
    customTagReplacement: () => ({ id, context: xml }),
  });
  return { id, url: context };
}

function createServiceProvider(sp: SpSettings) {
  const { config } = sp;
  const encryptionCertificate = config.spEncryptionCertificate ?? config.spCertificate;
  const encryptionKey = config.spEncryptionPrivateKey ?? config.spPrivateKey;
  return ServiceProvider({
    entityID: sp.entityId,
    assertionConsumerService: [{ Binding: POST_BINDING, Location: sp.acsUrl }],
    authnRequestsSigned: config.signAuthnRequests,
    wantAssertionsSigned: config.wantAssertionsSigned,
    nameIDFormat: [config.nameIdFormat],
    requestSignatureAlgorithm: SIGNATURE_ALGORITHMS[config.signatureAlgorithm],
    ...(config.spCertificate !== undefined && { signingCert: config.spCertificate }),
    ...(config.spPrivateKey !== undefined && { privateKey: config.spPrivateKey }),
    // Only offer an encryption key when Lock can decrypt with it.
    ...(config.wantAssertionsEncrypted &&
      encryptionCertificate !== undefined && { encryptCert: encryptionCertificate }),
    ...(encryptionKey !== undefined && { encPrivateKey: encryptionKey }),
  });
}

interface AuthnRequestFields {
  id: string;
  issueInstant: string;
  destination: string;
  acsUrl: string;
  issuer: string;
  nameIdFormat: string;
  forceAuthn: boolean;
  requestedAuthnContext?: { comparison: string; classRefs: string[] };
}

function authnRequestXml(fields: AuthnRequestFields): string {
  const context = fields.requestedAuthnContext
    ? `<samlp:RequestedAuthnContext Comparison="${escapeXml(fields.requestedAuthnContext.comparison)}">${fields.requestedAuthnContext.classRefs
        .map((ref) => `<saml:AuthnContextClassRef>${escapeXml(ref)}</saml:AuthnContextClassRef>`)
        .join('')}</samlp:RequestedAuthnContext>`
    : '';
  return (
    '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"' +
    ` ID="${escapeXml(fields.id)}" Version="2.0" IssueInstant="${escapeXml(fields.issueInstant)}"` +
    ` Destination="${escapeXml(fields.destination)}" ProtocolBinding="${POST_BINDING}"` +
    ` AssertionConsumerServiceURL="${escapeXml(fields.acsUrl)}"${fields.forceAuthn ? ' ForceAuthn="true"' : ''}>` +
    `<saml:Issuer>${escapeXml(fields.issuer)}</saml:Issuer>` +
    `<samlp:NameIDPolicy Format="${escapeXml(fields.nameIdFormat)}" AllowCreate="true"/>` +
    context +
    '</samlp:AuthnRequest>'
  );
}

function escapeXml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[char]!,
  );
}
