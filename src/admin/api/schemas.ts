import { z } from 'zod';
import { CONNECTOR_CONFIG_SCHEMAS, connectorSchema } from '../../connectors/config-schemas.ts';
import { clientSchema } from '../../model/client.ts';
import { userSchema } from '../../model/user.ts';
import { positionSchema } from '../connectors.ts';

/**
 * Request schemas the admin API derives from the declarative file's: the same fields, less what
 * the API does not take (a client secret is generated; a password hash comes only from the file).
 */

type Shape = Record<string, z.ZodType>;

/** The object schema inside refinements and transforms. */
function shapeOf(schema: z.ZodType): Shape {
  let current = schema as unknown as { shape?: Shape; in?: unknown };
  while (current.shape === undefined && current.in !== undefined) current = current.in as typeof current;
  if (!current.shape) throw new Error('not an object schema');
  return current.shape;
}

const without = (shape: Shape, ...keys: string[]) =>
  Object.fromEntries(Object.entries(shape).filter(([key]) => !keys.includes(key)));

/** Documents the client body; the service validates with clientSchema itself (secret generated). */
export const clientInputDoc = z.strictObject(without(shapeOf(clientSchema), 'clientSecret'));

/** A local account: the file's user schema without passwordHash. */
export const userInputSchema = z.strictObject(without(shapeOf(userSchema), 'passwordHash'));

/** Documents the connector body: per type, that type's config schema (what connectorSchema checks). */
export const connectorInputDoc = z.discriminatedUnion(
  'type',
  (Object.keys(CONNECTOR_CONFIG_SCHEMAS) as Array<keyof typeof CONNECTOR_CONFIG_SCHEMAS>).map((type) =>
    z.strictObject({
      ...without(shapeOf(connectorSchema), 'type', 'config'),
      type: z.literal(type),
      position: positionSchema.optional().describe('place in login order; last when left out'),
      config: CONNECTOR_CONFIG_SCHEMAS[type],
    }),
  ) as unknown as [z.ZodObject, z.ZodObject, ...z.ZodObject[]],
);

/** A JSON merge patch (RFC 7396) of an entity's representation. */
export const mergePatchOf = (what: string) =>
  z.record(z.string(), z.unknown()).describe(`a JSON merge patch (RFC 7396) of the ${what}`);
