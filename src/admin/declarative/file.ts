import { parseDeclarativeText, readDeclarativeFile } from '../../config/declarative-file.ts';
import type { DeclarativeConfig } from '../../config/declarative-schema.ts';
import { declarativeSchemaWith } from '../../config/declarative-schema.ts';
import { connectorSchema } from '../../connectors/config-schemas.ts';

/** The declarative file's schema with each connector type's config schema (they live with the connectors). */
const declarativeSchema = declarativeSchemaWith(connectorSchema);

/** Reads, interpolates and validates a declarative YAML file; every problem names its field path. */
export function loadDeclarativeFile(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DeclarativeConfig> {
  return readDeclarativeFile(path, declarativeSchema, env);
}

/** The same, for text already read (`source` names it in problems). */
export function parseDeclarative(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): DeclarativeConfig {
  return parseDeclarativeText(text, source, declarativeSchema, env);
}
