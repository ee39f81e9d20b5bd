import { SamlRefusal } from './refusal.ts';
import { decodeBase64Xml } from './response-validation.ts';
import { attributeOf, descendants, NS, optionalChild, parseStrictXml, XmlRefused } from './xml-document.ts';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

/**
 * What a SAML Response claims about itself, read without trusting it: only to refuse cheaply what
 * cannot be a login for this connector before the schema check (a thread of the bounded pool) and
 * the signature check run. Everything here is checked again, from signed bytes, afterwards.
 */
export interface ResponseOutline {
  /** The status is Success (a login, not an error answer). */
  success: boolean;
  /** The request it says it answers: the Response's InResponseTo, else its first SubjectConfirmationData's. */
  inResponseTo?: string;
  /** The first assertion's ID, to name a replay as such. */
  assertionId?: string;
}

/**
 * Base64 and size, UTF-8, no DTD, well-formed XML with one root that is a samlp:Response, and — for
 * a Success — a signature or an encrypted assertion somewhere. A few milliseconds at most.
 */
export function outlineResponse(encoded: string): ResponseOutline {
  const xml = decodeBase64Xml(encoded);
  if (/<!DOCTYPE|<!ENTITY/i.test(xml))
    throw new SamlRefusal('the document has a DTD (DOCTYPE or ENTITY)', { precheck: 'not-xml' });
  let document: Document;
  try {
    document = parseStrictXml(xml);
  } catch (error) {
    if (error instanceof XmlRefused) throw new SamlRefusal(error.message, { precheck: 'not-xml' });
    throw error;
  }
  const response = document.documentElement;
  if (response.namespaceURI !== NS.protocol || response.localName !== 'Response')
    throw new SamlRefusal(`expected a samlp:Response, got ${response.localName}`, {
      precheck: 'not-response',
    });
  const success = statusCodeOf(response) === SUCCESS;
  if (
    success &&
    descendants(document, NS.dsig, 'Signature').length === 0 &&
    descendants(document, NS.assertion, 'EncryptedAssertion').length === 0
  )
    throw new SamlRefusal('the Response carries no signature (nor an encrypted assertion)', {
      precheck: 'unsigned',
    });
  const confirmation = descendants(document, NS.assertion, 'SubjectConfirmationData')[0];
  const inResponseTo =
    attributeOf(response, 'InResponseTo') ?? (confirmation && attributeOf(confirmation, 'InResponseTo'));
  const assertionId = descendants(document, NS.assertion, 'Assertion')[0]?.getAttribute('ID') || undefined;
  return {
    success,
    ...(inResponseTo !== undefined && { inResponseTo }),
    ...(assertionId !== undefined && { assertionId }),
  };
}

function statusCodeOf(response: Element): string | undefined {
  try {
    const status = optionalChild(response, NS.protocol, 'Status');
    const code = status && optionalChild(status, NS.protocol, 'StatusCode');
    return code && attributeOf(code, 'Value');
  } catch {
    // Two Status elements: the schema check refuses it with a better message.
    return undefined;
  }
}
