import { DOMParser } from '@xmldom/xmldom';

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

/** The document is not one Lock accepts; `reason` says why, for the admin. */
export class XmlRefused extends Error {
  override name = 'XmlRefused';
}

const ELEMENT = 1;
const PROCESSING_INSTRUCTION = 7;
const COMMENT = 8;
const DOCUMENT_TYPE = 10;

/**
 * Parses a SAML document strictly: no DTD or entity of any kind, no comment (a comment inside a
 * signed value survives canonicalization and cuts the value short for lax readers), no processing
 * instruction, exactly one root element. Call after the schema check, which refuses what is not
 * well-formed.
 */
export function parseStrictXml(xml: string): Document {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new XmlRefused('the document has a DTD (DOCTYPE or ENTITY)');
  const fail = (message: string) => {
    throw new XmlRefused(`the document is not well-formed XML: ${message.split('\n')[0]}`);
  };
  const document = new DOMParser({
    errorHandler: { warning: fail, error: fail, fatalError: fail },
  }).parseFromString(xml, 'text/xml') as unknown as Document;
  const roots = [...nodes(document.childNodes)].filter((node) => node.nodeType === ELEMENT);
  if (roots.length !== 1) throw new XmlRefused(`the document has ${roots.length} root elements`);
  refuseUnexpectedNodes(document);
  return document;
}

function refuseUnexpectedNodes(node: Node): void {
  for (const child of nodes(node.childNodes)) {
    if (child.nodeType === COMMENT) throw new XmlRefused('the document contains an XML comment');
    if (child.nodeType === DOCUMENT_TYPE) throw new XmlRefused('the document has a DTD (DOCTYPE)');
    if (child.nodeType === PROCESSING_INSTRUCTION && (child as ProcessingInstruction).target !== 'xml')
      throw new XmlRefused('the document contains a processing instruction');
    if (child.nodeType === ELEMENT) refuseUnexpectedNodes(child);
  }
}

function* nodes(list: NodeListOf<ChildNode> | NodeList): Generator<Node> {
  for (let index = 0; index < list.length; index++) yield list.item(index)!;
}

/** Element children of `parent` with this namespace and local name, in document order. */
export function childElements(parent: Node, namespace: string, localName: string): Element[] {
  return [...nodes(parent.childNodes)].filter(
    (node): node is Element =>
      node.nodeType === ELEMENT &&
      (node as Element).namespaceURI === namespace &&
      (node as Element).localName === localName,
  );
}

/** The one such child, undefined when there is none; more than one is refused. */
export function optionalChild(parent: Node, namespace: string, localName: string): Element | undefined {
  const found = childElements(parent, namespace, localName);
  if (found.length > 1) throw new XmlRefused(`more than one ${localName} element`);
  return found[0];
}

/** Every element below `root` (at any depth) with this namespace and local name. */
export function descendants(root: Document | Element, namespace: string, localName: string): Element[] {
  return [...nodes(root.getElementsByTagNameNS(namespace, localName) as unknown as NodeList)] as Element[];
}

/** The text of an element, all of it (a value split into several text nodes is read whole). */
export function textOf(element: Element): string {
  return (element.textContent ?? '').trim();
}

export function attributeOf(element: Element, name: string): string | undefined {
  return element.hasAttribute(name) ? element.getAttribute(name)! : undefined;
}
