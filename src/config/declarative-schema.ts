import { z } from 'zod';
import { clientSchema } from '../model/client.ts';
import type { ConnectorSchema } from '../model/connector.ts';
import { resourceSchema } from '../model/resource.ts';
import { roleSchema } from '../model/role.ts';
import { roleMappingSchema } from '../model/role-mapping.ts';
import { userSchema } from '../model/user.ts';

/**
 * The declarative YAML file: one list per entity of src/model/. Its connectors are checked with
 * `connectorSchema`, which the connectors layer builds (each type knows its own config), so this
 * composition needs no connector code.
 */
export function declarativeSchemaWith(connectorSchema: ConnectorSchema) {
  return z.strictObject({
    roles: z.array(roleSchema).default([]),
    resources: z.array(resourceSchema).default([]),
    clients: z.array(clientSchema).default([]),
    connectors: z.array(connectorSchema).default([]),
    roleMappings: z.array(roleMappingSchema).default([]),
    users: z.array(userSchema).default([]),
  });
}

export type DeclarativeSchema = ReturnType<typeof declarativeSchemaWith>;
export type DeclarativeConfig = z.output<DeclarativeSchema>;
