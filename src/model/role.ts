import { z } from 'zod';
import { entityName } from './schema-checks.ts';

export const roleSchema = z.strictObject({
  name: entityName,
  description: z.string().max(500).optional(),
});

export type RoleDecl = z.output<typeof roleSchema>;
