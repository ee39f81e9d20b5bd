import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { type ClientDecl, clientSchema } from '../config/declarative-schema.ts';
import { describeIssues } from '../config/schema-errors.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { listClients, listResources, listRoles, upsertClient } from '../store/catalog-repositories.ts';
import { notifyChange } from '../store/change-feed.ts';
import { tx } from '../store/pool.ts';
import { AdminInputError } from './errors.ts';

/** Admin operations on clients, shared by the CLI and the admin API. */

/** 256 bits, URL-safe: shown once to the admin, stored sealed. */
export const generateClientSecret = () => randomBytes(32).toString('base64url');

/**
 * Registers a client with the same schema the declarative file uses. A confidential client gets a
 * generated secret, returned here once and never again.
 */
export async function addClient(
  pool: pg.Pool,
  box: SecretBox,
  input: Record<string, unknown>,
): Promise<{ client: ClientDecl; secret?: string }> {
  const secret = input.public === true ? undefined : generateClientSecret();
  const parsed = clientSchema.safeParse({ ...input, ...(secret !== undefined && { clientSecret: secret }) });
  if (!parsed.success) {
    const [first] = describeIssues(parsed.error.issues);
    const [field, ...message] = first!.split(': ');
    throw new AdminInputError(field!, message.join(': '));
  }
  const client = parsed.data;
  await tx(pool, async (db) => {
    if ((await listClients(db)).some((existing) => existing.clientId === client.clientId))
      throw new AdminInputError('clientId', `a client "${client.clientId}" already exists`, 409);
    const roles = new Set((await listRoles(db)).map((role) => role.name));
    const unknownRole = client.roles.find((role) => !roles.has(role));
    if (unknownRole) throw new AdminInputError('roles', `unknown role "${unknownRole}"`);
    const resources = new Set((await listResources(db)).map((resource) => resource.id));
    const unknownResource = client.resources.find((resource) => !resources.has(resource));
    if (unknownResource) throw new AdminInputError('resources', `unknown resource "${unknownResource}"`);
    const { clientSecret, ...rest } = client;
    await upsertClient(db, {
      ...rest,
      ...(clientSecret !== undefined && {
        sealedSecret: box.seal(clientSecret, `client_secret:${client.clientId}`),
      }),
      managedBy: null,
    });
    await notifyChange(db, 'catalog');
  });
  return { client, ...(secret !== undefined && { secret }) };
}
