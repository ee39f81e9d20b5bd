import { z } from 'zod';
import { entityName, evenWithOtherProblems, partial, unique } from './schema-checks.ts';

/** A local account's group: any non-empty name (directories' DNs included). */
export const groupNameSchema = z.string().min(1).max(1000);

export const userSchema = z
  .strictObject({
    username: z.string().min(1).max(256),
    email: z.email().optional(),
    name: z.string().max(200).optional(),
    password: z.string().min(1).max(1024).optional(),
    passwordHash: z.string().startsWith('$argon2', 'must be an argon2 hash').optional(),
    groups: unique(groupNameSchema, 'groups').default([]),
    roles: unique(entityName, 'roles').default([]),
    disabled: z.boolean().default(false),
  })
  .refine(
    (user) => {
      const { password, passwordHash } = partial<{ password: string; passwordHash: string }>(user, {});
      return !(password && passwordHash);
    },
    { path: ['passwordHash'], message: 'give password or passwordHash, not both', ...evenWithOtherProblems },
  );

export type UserDecl = z.output<typeof userSchema>;
