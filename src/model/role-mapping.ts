import { z } from 'zod';
import { entityName, unique } from './schema-checks.ts';

/** Members of `group` at `connector` (`*`: any connector) are given `roles`. */
export const roleMappingSchema = z.strictObject({
  connector: z.union([entityName, z.literal('*')]),
  group: z.string().min(1).max(1000),
  roles: unique(entityName, 'roles').min(1),
});

export type RoleMappingDecl = z.output<typeof roleMappingSchema>;
