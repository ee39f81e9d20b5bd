import { z } from 'zod';

/** A person as the upstream knows them. `upstreamId` is stable and unique within the connector. */
export interface UpstreamIdentity {
  upstreamId: string;
  username: string;
  email?: string;
  name?: string;
  groups: string[];
  /** Extra claims mapped from upstream attributes. */
  claims?: Record<string, unknown>;
  /** Roles the upstream grants outright (local accounts' direct and mapped roles); others map `groups`. */
  roles?: string[];
}

/**
 * An UpstreamIdentity a connector kept between two steps of a sign-in (a checked login waiting for
 * its browser), as read back: parsed, and without the members stored as absent.
 */
export const storedUpstreamIdentitySchema = z
  .object({
    upstreamId: z.string(),
    username: z.string(),
    email: z.string().optional(),
    name: z.string().optional(),
    groups: z.array(z.string()),
    claims: z.record(z.string(), z.unknown()).optional(),
  })
  .transform(
    ({ email, name, claims, ...identity }): UpstreamIdentity => ({
      ...identity,
      ...(email !== undefined && { email }),
      ...(name !== undefined && { name }),
      ...(claims !== undefined && { claims }),
    }),
  );
