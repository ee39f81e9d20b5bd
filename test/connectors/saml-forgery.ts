// What an attacker does to a real SAML Response: edit it as a DOM, move signed parts around, sign with
// a key of their own (or, to test checks behind the signature, with the IdP's key).
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

export const decodeResponse = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');
export const encodeResponse = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

export function parseXml(xml: string): Document {
  return new DOMParser().parseFromString(xml, 'text/xml') as unknown as Document;
}

export function serializeXml(node: Node): string {
  return new XMLSerializer().serializeToString(node as never);
}

/** Every element below `root`, in document order. */
function elementsBelow(root: Document | Element): Element[] {
  const list = root.getElementsByTagName('*');
  return Array.from({ length: list.length }, (_, index) => list.item(index)!);
}

/** The first element with this local name below `root`, in document order. */
export function find(root: Document | Element, localName: string): Element {
  const found = elementsBelow(root).find((element) => element.localName === localName);
  if (!found) throw new Error(`no ${localName} element`);
  return found;
}

/** The direct child with this local name. */
export function child(parent: Element, localName: string): Element {
  for (let node = parent.firstChild; node; node = node.nextSibling)
    if (node.nodeType === 1 && (node as Element).localName === localName) return node as Element;
  throw new Error(`no ${localName} child`);
}

export function removeSignature(element: Element): Element {
  for (let node = element.firstChild; node; node = node.nextSibling)
    if (
      node.nodeType === 1 &&
      (node as Element).namespaceURI === DSIG &&
      (node as Element).localName === 'Signature'
    ) {
      element.removeChild(node);
      return node as Element;
    }
  throw new Error(`${element.localName} is not signed`);
}

/** Replaces the text of every AttributeValue of the named attribute. */
export function setAttributeValues(root: Document | Element, name: string, value: string): void {
  const attribute = elementsBelow(root).find(
    (element) => element.localName === 'Attribute' && element.getAttribute('Name') === name,
  );
  if (!attribute) throw new Error(`no attribute ${name}`);
  for (const valueElement of elementsBelow(attribute))
    if (valueElement.localName === 'AttributeValue') valueElement.textContent = value;
}

/**
 * Signs the element with this ID as an IdP would (enveloped, exclusive c14n, RSA-SHA256), placing
 * the signature after its Issuer, with `certificate` in KeyInfo.
 */
export function signElement(
  xml: string,
  id: string,
  key: { privateKey: string; certificate: string },
): string {
  const signer = new SignedXml({
    privateKey: key.privateKey,
    publicCert: key.certificate,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  signer.addReference({
    xpath: `//*[@ID='${id}']`,
    transforms: [
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  signer.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `//*[@ID='${id}']/*[local-name()='Issuer']`, action: 'after' },
  });
  return signer.getSignedXml();
}

/**
 * A real base64 SAML Response, changed by `edit`, then signed again — assertion, then Response —
 * with `key` (the IdP's own key, to test the checks behind the signature).
 */
export function resignResponse(
  base64: string,
  key: { privateKey: string; certificate: string },
  edit: (document: Document) => void,
): string {
  const document = parseXml(decodeResponse(base64));
  const response = document.documentElement;
  const assertion = child(response, 'Assertion');
  removeSignature(response);
  removeSignature(assertion);
  edit(document);
  const signedAssertion = signElement(serializeXml(document), assertion.getAttribute('ID')!, key);
  return encodeResponse(signElement(signedAssertion, response.getAttribute('ID')!, key));
}

/** The AuthnInstant of a base64 SAML Response's (unencrypted) assertion. */
export function authnInstantOf(base64: string): Date {
  return new Date(find(parseXml(decodeResponse(base64)), 'AuthnStatement').getAttribute('AuthnInstant')!);
}
