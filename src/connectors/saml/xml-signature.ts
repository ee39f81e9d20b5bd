import { SignedXml } from 'xml-crypto';
import { SamlRefusal } from './refusal.ts';
import { childElements, NS } from './xml-document.ts';

// What an enveloped SAML signature may do to the element before digesting it, and nothing else.
const ALLOWED_TRANSFORMS = new Set([
  'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  'http://www.w3.org/2001/10/xml-exc-c14n#',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
]);
// SHA-1 is refused: collisions are practical.
const ALLOWED_SIGNATURE_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
]);
const ALLOWED_DIGESTS = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmlenc#sha512',
  'http://www.w3.org/2001/04/xmldsig-more#sha384',
]);

/**
 * Verifies the enveloped signature of `element` (its one ds:Signature child) against the IdP's
 * certificates from metadata — never a key or certificate the document carries in KeyInfo — and
 * checks that it signs exactly this element (one Reference, to its ID). Returns the canonical XML
 * of the signed element: the only bytes the caller may read the identity from.
 *
 * `documentXml` is the serialized document `element` belongs to.
 */
export function verifyEnvelopedSignature(
  documentXml: string,
  element: Element,
  certificates: readonly string[],
  what: 'Response' | 'Assertion',
): string {
  const signatures = childElements(element, NS.dsig, 'Signature');
  if (signatures.length === 0) throw new SamlRefusal(`the ${what} is not signed`);
  if (signatures.length > 1) throw new SamlRefusal(`the ${what} has ${signatures.length} signatures`);
  const id = element.getAttribute('ID');
  if (!id) throw new SamlRefusal(`the signed ${what} has no ID`);

  let lastError = 'no certificate';
  for (const certificate of certificates) {
    const verifier = new SignedXml({ publicCert: certificate, getCertFromKeyInfo: () => null });
    verifier.loadSignature(signatures[0]!);
    if (!ALLOWED_SIGNATURE_ALGORITHMS.has(String(verifier.signatureAlgorithm)))
      throw new SamlRefusal(
        `the ${what} signature uses the algorithm ${verifier.signatureAlgorithm}, not allowed`,
      );
    let valid = false;
    try {
      valid = verifier.checkSignature(documentXml);
    } catch (error) {
      lastError = (error as Error).message.replace(/signature value \S+/, 'signature value');
      continue;
    }
    if (!valid) {
      lastError = 'a referenced element does not match its digest';
      continue;
    }
    const references = verifier.getReferences();
    const signed = verifier.getSignedReferences();
    if (references.length !== 1 || signed.length !== 1)
      throw new SamlRefusal(`the ${what} signature has ${references.length} references, expected 1`);
    const reference = references[0]!;
    if (reference.uri !== `#${id}`)
      throw new SamlRefusal(
        `the ${what} signature signs ${reference.uri || 'the whole document'}, not the ${what} (#${id})`,
      );
    for (const transform of reference.transforms)
      if (!ALLOWED_TRANSFORMS.has(transform))
        throw new SamlRefusal(`the ${what} signature uses the transform ${transform}, not allowed`);
    if (!ALLOWED_DIGESTS.has(String(reference.digestAlgorithm)))
      throw new SamlRefusal(
        `the ${what} signature uses the digest ${reference.digestAlgorithm}, not allowed`,
      );
    return signed[0]!;
  }
  throw new SamlRefusal(
    `the ${what} signature does not verify with the IdP's certificate from metadata (${lastError})`,
    {
      signatureFailure: true,
    },
  );
}
