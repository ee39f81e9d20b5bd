import { readFileSync } from 'node:fs';
import { validateXML, type XMLFileInfo } from 'xmllint-wasm';

// The vendored XSDs (schemas/README.md): read once, handed to xmllint in memory, never fetched.
const SCHEMA_FILES = [
  'saml-schema-protocol-2.0.xsd',
  'saml-schema-assertion-2.0.xsd',
  'saml-schema-metadata-2.0.xsd',
  'xmldsig-core-schema.xsd',
  'xenc-schema.xsd',
  'xml.xsd',
] as const;

const SCHEMAS: XMLFileInfo[] = SCHEMA_FILES.map((fileName) => ({
  fileName,
  contents: readFileSync(new URL(`./schemas/${fileName}`, import.meta.url), 'utf8'),
}));

const ENTRY = {
  protocol: 'saml-schema-protocol-2.0.xsd',
  assertion: 'saml-schema-assertion-2.0.xsd',
  metadata: 'saml-schema-metadata-2.0.xsd',
} as const;

export type SamlSchema = keyof typeof ENTRY;

/**
 * Validates a document against a SAML schema with libxml2 (xmllint-wasm), offline. Resolves with
 * undefined when valid, else with xmllint's first complaint (which names elements, never values).
 */
export async function schemaViolation(xml: string, schema: SamlSchema): Promise<string | undefined> {
  const entry = SCHEMAS.find((file) => file.fileName === ENTRY[schema])!;
  const result = await validateXML({
    xml: [{ fileName: 'message.xml', contents: xml }],
    schema: [entry],
    preload: SCHEMAS.filter((file) => file !== entry),
    // No network and no DTD loading, whatever the document asks for.
    modifyArguments: (args) => ['--nonet', ...args],
  });
  if (result.valid) return undefined;
  const first = result.errors[0];
  return first ? first.message.trim().slice(0, 300) : 'not valid against the SAML schema';
}
