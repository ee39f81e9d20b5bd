import { z } from 'zod';

export const localConfigSchema = z.strictObject({
  /** false turns Lock's own accounts off (refused while it would leave no lock_admin able to sign in). */
  enabled: z.boolean().default(true),
});
