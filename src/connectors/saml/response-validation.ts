import { decrypt } from '@authenio/xml-encryption';
import type { IdpDescriptor } from './idp-metadata.ts';
import { SamlRefusal } from './refusal.ts';
import {
  attributeOf,
  childElements,
  descendants,
  NS,
  optionalChild,
  parseStrictXml,
  textOf,
  XmlRefused,
} from './xml-document.ts';
import { schemaViolation } from './xml-schema.ts';
import { verifyEnvelopedSignature } from './xml-signature.ts';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
const ENTITY_FORMAT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';
const MAX_RESPONSE_BYTES = 256 * 1024;

export interface ValidationSettings {
  idp: IdpDescriptor;
  spEntityId: string;
  acsUrl: string;
  /** PEM; needed to read encrypted assertions. */
  decryptionKey?: string;
  wantAssertionsSigned: boolean;
  wantResponseSigned: boolean;
  wantAssertionsEncrypted: boolean;
  clockSkewSeconds: number;
  now: Date;
}

/** The IdP answered with an error status instead of a login. */
export interface StatusResponse {
  kind: 'status';
  /** Unsigned as a rule: good enough to route the error page, never to log anyone in. */
  inResponseTo?: string;
  statusCode: string;
  subStatusCode?: string;
  statusMessage?: string;
}

/** A login the IdP vouched for, read only from what its signature covers. */
export interface ValidatedAssertion {
  kind: 'assertion';
  assertionId: string;
  issuer: string;
  /** From the signed SubjectConfirmationData; undefined for an unsolicited response. */
  inResponseTo?: string;
  /** Until when the assertion could be presented again: how long its ID must be remembered. */
  replayableUntil: Date;
  nameId: { value: string; format?: string };
  authnInstant?: Date;
  authnContextClassRef?: string;
  attributes: Map<string, string[]>;
}

/**
 * Every check of a SAML Response that Lock relies on, in order: size, no DTD, the SAML protocol
 * schema, a strict parse (no comments), one Response and one assertion in the whole document (which
 * defeats the signature-wrapping shapes), Issuer and Destination, status, the signatures the
 * connector requires (by the IdP's certificates from metadata), decryption, then — read only from
 * the signed assertion — Issuer, SubjectConfirmation (bearer, Recipient, validity, InResponseTo),
 * Conditions (validity, Audience) and the AuthnStatement.
 */
export async function validateSamlResponse(
  encoded: string,
  settings: ValidationSettings,
): Promise<StatusResponse | ValidatedAssertion> {
  const xml = decodeBase64Xml(encoded);
  const document = await parseSamlDocument(xml, 'protocol');
  const response = document.documentElement;
  if (response.namespaceURI !== NS.protocol || response.localName !== 'Response')
    throw new SamlRefusal(`expected a samlp:Response, got ${response.localName}`);
  if (descendants(document, NS.protocol, 'Response').length !== 1)
    throw new SamlRefusal('the document holds more than one Response');

  checkIssuer(optionalChild(response, NS.assertion, 'Issuer'), settings.idp.entityId, 'Response', false);
  const destination = attributeOf(response, 'Destination');
  if (destination !== undefined && destination !== settings.acsUrl)
    throw new SamlRefusal(`Destination is ${destination}, expected this connector's ACS ${settings.acsUrl}`);

  const status = readStatus(response);
  if (status.statusCode !== SUCCESS) {
    const inResponseTo = attributeOf(response, 'InResponseTo');
    return { kind: 'status', ...status, ...(inResponseTo !== undefined && { inResponseTo }) };
  }

  const assertions = descendants(document, NS.assertion, 'Assertion');
  const encrypted = descendants(document, NS.assertion, 'EncryptedAssertion');
  if (assertions.length + encrypted.length !== 1)
    throw new SamlRefusal(
      `the document holds ${assertions.length} assertions and ${encrypted.length} encrypted assertions, expected exactly one`,
    );
  const assertionElement = (assertions[0] ?? encrypted[0])!;
  if (assertionElement.parentNode !== response)
    throw new SamlRefusal('the assertion is not a child of the Response');
  const responseSignatures = childElements(response, NS.dsig, 'Signature').length;
  const assertionSignatures = childElements(assertionElement, NS.dsig, 'Signature').length;
  if (descendants(document, NS.dsig, 'Signature').length !== responseSignatures + assertionSignatures)
    throw new SamlRefusal('the document holds a signature outside the Response and the assertion');

  let signedResponse: string | undefined;
  if (settings.wantResponseSigned || responseSignatures > 0) {
    if (destination === undefined) throw new SamlRefusal('the signed Response has no Destination');
    signedResponse = verifyEnvelopedSignature(xml, response, settings.idp.signingCertificates, 'Response');
  }

  let assertionXml = xml;
  let assertion = assertionElement;
  if (encrypted.length === 1) {
    if (!settings.decryptionKey)
      throw new SamlRefusal('the assertion is encrypted, but the connector has no decryption key');
    assertionXml = await decryptAssertion(assertionElement, settings.decryptionKey);
    assertion = (await parseSamlDocument(assertionXml, 'assertion')).documentElement;
    if (assertion.namespaceURI !== NS.assertion || assertion.localName !== 'Assertion')
      throw new SamlRefusal('the encrypted assertion does not hold an Assertion');
  } else if (settings.wantAssertionsEncrypted) {
    throw new SamlRefusal('the assertion is not encrypted, and the connector requires encrypted assertions');
  }

  let signedAssertion: string | undefined;
  if (settings.wantAssertionsSigned || childElements(assertion, NS.dsig, 'Signature').length > 0)
    signedAssertion = verifyEnvelopedSignature(
      assertionXml,
      assertion,
      settings.idp.signingCertificates,
      'Assertion',
    );

  // What the identity is read from: the signed assertion; else the assertion inside the signed Response
  // (or decrypted from the ciphertext the signed Response carried).
  let trusted: Element;
  if (signedAssertion !== undefined) trusted = (await parseCanonical(signedAssertion)).documentElement;
  else if (encrypted.length === 1) trusted = assertion;
  else {
    const signedRoot = (await parseCanonical(signedResponse!)).documentElement;
    const inner = childElements(signedRoot, NS.assertion, 'Assertion');
    if (inner.length !== 1) throw new SamlRefusal('the signed Response does not hold exactly one assertion');
    trusted = inner[0]!;
  }
  const result = readAssertion(trusted, settings);
  const responseInResponseTo = attributeOf(response, 'InResponseTo');
  if (responseInResponseTo !== undefined && responseInResponseTo !== result.inResponseTo)
    throw new SamlRefusal(
      `the Response answers ${responseInResponseTo}, but its assertion answers ${result.inResponseTo ?? 'nothing'}`,
    );
  return result;
}

/** The SAMLResponse form value as XML text: base64, at most MAX_RESPONSE_BYTES, UTF-8. */
export function decodeBase64Xml(encoded: string): string {
  if (encoded.length > Math.ceil((MAX_RESPONSE_BYTES * 4) / 3) + 4096)
    throw new SamlRefusal(`SAMLResponse is larger than ${MAX_RESPONSE_BYTES} bytes`, {
      precheck: 'too-large',
    });
  const compact = encoded.replace(/\s+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact))
    throw new SamlRefusal('SAMLResponse is not base64', { precheck: 'not-base64' });
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length > MAX_RESPONSE_BYTES)
    throw new SamlRefusal(`SAMLResponse is larger than ${MAX_RESPONSE_BYTES} bytes`, {
      precheck: 'too-large',
    });
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new SamlRefusal('SAMLResponse is not UTF-8', { precheck: 'not-xml' });
  }
}

/** No DTD reaches the schema validator; then the schema; then the strict parse. */
async function parseSamlDocument(xml: string, schema: 'protocol' | 'assertion'): Promise<Document> {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new SamlRefusal('the document has a DTD (DOCTYPE or ENTITY)');
  const violation = await schemaViolation(xml, schema);
  if (violation) throw new SamlRefusal(`not valid against the SAML 2.0 ${schema} schema: ${violation}`);
  return parseCanonical(xml);
}

async function parseCanonical(xml: string): Promise<Document> {
  try {
    return parseStrictXml(xml);
  } catch (error) {
    if (error instanceof XmlRefused) throw new SamlRefusal(error.message);
    throw error;
  }
}

function readStatus(response: Element): Omit<StatusResponse, 'kind' | 'inResponseTo'> {
  const status = optionalChild(response, NS.protocol, 'Status');
  const code = status && optionalChild(status, NS.protocol, 'StatusCode');
  const statusCode = code && attributeOf(code, 'Value');
  if (!statusCode) throw new SamlRefusal('the Response has no StatusCode');
  const sub = optionalChild(code, NS.protocol, 'StatusCode');
  const subStatusCode = sub && attributeOf(sub, 'Value');
  const message = optionalChild(status, NS.protocol, 'StatusMessage');
  return {
    statusCode,
    ...(subStatusCode !== undefined && { subStatusCode }),
    ...(message && { statusMessage: textOf(message).slice(0, 200) }),
  };
}

function checkIssuer(issuer: Element | undefined, expected: string, where: string, required: boolean): void {
  if (!issuer) {
    if (required) throw new SamlRefusal(`the ${where} has no Issuer`);
    return;
  }
  const format = attributeOf(issuer, 'Format');
  if (format !== undefined && format !== ENTITY_FORMAT)
    throw new SamlRefusal(`the ${where} Issuer has the format ${format}, expected an entity ID`);
  if (textOf(issuer) !== expected)
    throw new SamlRefusal(`the ${where} was issued by ${textOf(issuer)}, expected the IdP ${expected}`);
}

function readAssertion(assertion: Element, settings: ValidationSettings): ValidatedAssertion {
  const now = settings.now.getTime();
  const skew = settings.clockSkewSeconds * 1000;
  if (assertion.getAttribute('Version') !== '2.0') throw new SamlRefusal('the assertion is not SAML 2.0');
  const assertionId = assertion.getAttribute('ID');
  if (!assertionId) throw new SamlRefusal('the assertion has no ID');
  checkIssuer(optionalChild(assertion, NS.assertion, 'Issuer'), settings.idp.entityId, 'assertion', true);

  const subject = optionalChild(assertion, NS.assertion, 'Subject');
  if (!subject) throw new SamlRefusal('the assertion has no Subject');
  if (childElements(subject, NS.assertion, 'EncryptedID').length > 0)
    throw new SamlRefusal('the assertion has an encrypted NameID, which Lock does not read');
  const nameIdElement = optionalChild(subject, NS.assertion, 'NameID');
  if (!nameIdElement || textOf(nameIdElement) === '') throw new SamlRefusal('the assertion has no NameID');
  const nameIdFormat = attributeOf(nameIdElement, 'Format');
  const inResponseTo = checkSubjectConfirmation(subject, settings, now, skew);

  const conditions = optionalChild(assertion, NS.assertion, 'Conditions');
  if (!conditions) throw new SamlRefusal('the assertion has no Conditions');
  const notBefore = time(conditions, 'NotBefore', 'Conditions');
  const notOnOrAfter = time(conditions, 'NotOnOrAfter', 'Conditions');
  if (notBefore !== undefined && now + skew < notBefore)
    throw new SamlRefusal(`the assertion is not valid yet (Conditions NotBefore ${iso(notBefore)})`);
  if (notOnOrAfter !== undefined && now - skew >= notOnOrAfter)
    throw new SamlRefusal(`the assertion expired (Conditions NotOnOrAfter ${iso(notOnOrAfter)})`);
  const restrictions = childElements(conditions, NS.assertion, 'AudienceRestriction');
  if (restrictions.length === 0) throw new SamlRefusal('the assertion has no AudienceRestriction');
  for (const restriction of restrictions) {
    const audiences = childElements(restriction, NS.assertion, 'Audience').map(textOf);
    if (!audiences.includes(settings.spEntityId))
      throw new SamlRefusal(
        `the assertion is for the audience ${audiences.join(', ')}, not this SP (${settings.spEntityId})`,
      );
  }

  const statements = childElements(assertion, NS.assertion, 'AuthnStatement');
  if (statements.length === 0) throw new SamlRefusal('the assertion has no AuthnStatement');
  const authn = statements[0]!;
  const sessionEnd = time(authn, 'SessionNotOnOrAfter', 'AuthnStatement');
  if (sessionEnd !== undefined && now - skew >= sessionEnd)
    throw new SamlRefusal(`the IdP session ended (SessionNotOnOrAfter ${iso(sessionEnd)})`);
  const authnInstant = time(authn, 'AuthnInstant', 'AuthnStatement');
  const context = optionalChild(authn, NS.assertion, 'AuthnContext');
  const classRef = context && optionalChild(context, NS.assertion, 'AuthnContextClassRef');

  const subjectEnd = inResponseTo.notOnOrAfter;
  return {
    kind: 'assertion',
    assertionId,
    issuer: settings.idp.entityId,
    ...(inResponseTo.id !== undefined && { inResponseTo: inResponseTo.id }),
    replayableUntil: new Date(Math.max(subjectEnd, notOnOrAfter ?? subjectEnd) + skew),
    nameId: { value: textOf(nameIdElement), ...(nameIdFormat !== undefined && { format: nameIdFormat }) },
    ...(authnInstant !== undefined && { authnInstant: new Date(authnInstant) }),
    ...(classRef && { authnContextClassRef: textOf(classRef) }),
    attributes: readAttributes(assertion),
  };
}

/**
 * Web SSO profile §4.1.4.3: at least one bearer SubjectConfirmation whose data names this ACS as
 * Recipient, is within its validity, and answers the request (if any). Returns that request's ID.
 */
function checkSubjectConfirmation(
  subject: Element,
  settings: ValidationSettings,
  now: number,
  skew: number,
): { id?: string; notOnOrAfter: number } {
  const bearers = childElements(subject, NS.assertion, 'SubjectConfirmation').filter(
    (confirmation) => confirmation.getAttribute('Method') === BEARER,
  );
  if (bearers.length === 0) throw new SamlRefusal('the assertion has no bearer SubjectConfirmation');
  let problem = '';
  for (const bearer of bearers) {
    const data = optionalChild(bearer, NS.assertion, 'SubjectConfirmationData');
    if (!data) {
      problem = 'the bearer SubjectConfirmation has no SubjectConfirmationData';
      continue;
    }
    const recipient = attributeOf(data, 'Recipient');
    const notBefore = time(data, 'NotBefore', 'SubjectConfirmationData');
    const notOnOrAfter = time(data, 'NotOnOrAfter', 'SubjectConfirmationData');
    if (recipient !== settings.acsUrl)
      problem = `SubjectConfirmationData Recipient is ${recipient ?? 'missing'}, expected this connector's ACS ${settings.acsUrl}`;
    else if (notBefore !== undefined) problem = 'a bearer SubjectConfirmationData must not have NotBefore';
    else if (notOnOrAfter === undefined) problem = 'SubjectConfirmationData has no NotOnOrAfter';
    else if (now - skew >= notOnOrAfter)
      problem = `the assertion expired (SubjectConfirmationData NotOnOrAfter ${iso(notOnOrAfter)})`;
    else {
      const id = attributeOf(data, 'InResponseTo');
      return { ...(id !== undefined && { id }), notOnOrAfter };
    }
  }
  throw new SamlRefusal(problem);
}

function readAttributes(assertion: Element): Map<string, string[]> {
  const attributes = new Map<string, string[]>();
  for (const statement of childElements(assertion, NS.assertion, 'AttributeStatement'))
    for (const attribute of childElements(statement, NS.assertion, 'Attribute')) {
      const name = attribute.getAttribute('Name');
      if (!name) continue;
      const values = childElements(attribute, NS.assertion, 'AttributeValue')
        .filter((value) => value.getAttributeNS(NS.xsi, 'nil') !== 'true')
        .map(textOf);
      attributes.set(name, [...(attributes.get(name) ?? []), ...values]);
    }
  return attributes;
}

function time(element: Element, attribute: string, where: string): number | undefined {
  const value = attributeOf(element, attribute);
  if (value === undefined) return undefined;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value))
    throw new SamlRefusal(`${where} ${attribute} is not a UTC dateTime`);
  return parsed;
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

function decryptAssertion(encrypted: Element, key: string): Promise<string> {
  const data = childElements(encrypted, 'http://www.w3.org/2001/04/xmlenc#', 'EncryptedData');
  if (data.length !== 1) throw new SamlRefusal('the EncryptedAssertion does not hold one EncryptedData');
  return new Promise((resolve, reject) => {
    decrypt(encrypted.toString(), { key, disallowDecryptionWithInsecureAlgorithm: true }, (error, result) => {
      if (error || !result)
        reject(
          new SamlRefusal(
            `the assertion could not be decrypted with the SP key: ${error?.message ?? 'empty'}`,
          ),
        );
      else resolve(result);
    });
  });
}

export const isTransientNameId = (format: string | undefined) => format === TRANSIENT;
