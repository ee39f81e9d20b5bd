import { X509Certificate } from 'node:crypto';
import { attributeOf, childElements, descendants, NS, parseStrictXml, textOf } from './xml-document.ts';
import { schemaViolation } from './xml-schema.ts';

const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

/** What Lock needs to know about the IdP, read from its metadata. */
export interface IdpDescriptor {
  entityId: string;
  /** The certificates whose keys may sign for the IdP (several during a key rollover), PEM. */
  signingCertificates: string[];
  ssoRedirectUrl: string;
  wantAuthnRequestsSigned: boolean;
}

/** The metadata cannot be used; the message says why, for the admin. */
export class MetadataError extends Error {
  override name = 'MetadataError';
}

/**
 * Reads an IdP's SAML metadata: schema-checked, parsed strictly, one IDPSSODescriptor for SAML 2.0
 * with a signing certificate and an HTTP-Redirect SingleSignOnService. `expectedEntityId` picks the
 * entity from an aggregate (EntitiesDescriptor) and is required to match a single one.
 */
export async function readIdpMetadata(
  xml: string,
  expectedEntityId: string | undefined,
  now: Date,
): Promise<IdpDescriptor> {
  const violation = await schemaViolation(xml, 'metadata');
  if (violation) throw new MetadataError(`not valid SAML metadata: ${violation}`);
  let document: Document;
  try {
    document = parseStrictXml(xml);
  } catch (error) {
    throw new MetadataError(`not usable SAML metadata: ${(error as Error).message}`);
  }
  const root = document.documentElement;
  assertStillValid(root, now);
  const entities = descendants(document, NS.metadata, 'EntityDescriptor').filter(
    (entity) => idpDescriptorOf(entity) !== undefined,
  );
  const entity =
    expectedEntityId === undefined
      ? entities.length === 1
        ? entities[0]
        : undefined
      : entities.find((candidate) => candidate.getAttribute('entityID') === expectedEntityId);
  if (!entity)
    throw new MetadataError(
      expectedEntityId === undefined
        ? `expected one SAML 2.0 IdP in the metadata, found ${entities.length} (set idpEntityId to choose)`
        : `the metadata does not describe the IdP ${expectedEntityId}`,
    );
  assertStillValid(entity, now);
  const descriptor = idpDescriptorOf(entity)!;
  assertStillValid(descriptor, now);

  const signingCertificates = childElements(descriptor, NS.metadata, 'KeyDescriptor')
    .filter((key) => (attributeOf(key, 'use') ?? 'signing') === 'signing')
    .flatMap((key) => descendants(key, NS.dsig, 'X509Certificate'))
    .map((element) => toPem(textOf(element)));
  if (signingCertificates.length === 0)
    throw new MetadataError('the IdP metadata has no signing certificate (KeyDescriptor use="signing")');

  const sso = childElements(descriptor, NS.metadata, 'SingleSignOnService').find(
    (service) => service.getAttribute('Binding') === REDIRECT_BINDING,
  );
  const ssoRedirectUrl = sso?.getAttribute('Location') ?? '';
  if (!/^https?:\/\//.test(ssoRedirectUrl))
    throw new MetadataError('the IdP metadata has no SingleSignOnService for the HTTP-Redirect binding');

  const wants = attributeOf(descriptor, 'WantAuthnRequestsSigned');
  return {
    entityId: entity.getAttribute('entityID')!,
    signingCertificates,
    ssoRedirectUrl,
    wantAuthnRequestsSigned: wants === 'true' || wants === '1',
  };
}

function idpDescriptorOf(entity: Element): Element | undefined {
  return childElements(entity, NS.metadata, 'IDPSSODescriptor').find((descriptor) =>
    (descriptor.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(NS.protocol),
  );
}

function assertStillValid(element: Element, now: Date): void {
  const validUntil = attributeOf(element, 'validUntil');
  if (validUntil !== undefined && Date.parse(validUntil) <= now.getTime())
    throw new MetadataError(`the IdP metadata expired at ${validUntil} (validUntil)`);
}

function toPem(base64: string): string {
  const body = base64.replace(/\s+/g, '');
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
  try {
    new X509Certificate(pem);
  } catch {
    throw new MetadataError(
      'the IdP metadata has a signing certificate that is not a valid X.509 certificate',
    );
  }
  return pem;
}
