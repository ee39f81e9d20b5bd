import type pg from 'pg';
import { TOKEN_LIFETIMES } from '../config/defaults.ts';
import type { Client } from '../model/client.ts';
import type { Resource } from '../model/resource.ts';
import type { SecretBox } from '../security/secret-box.ts';
import {
  listClients,
  listConnectors,
  listResources,
  listRoles,
  type StoredConnector,
} from '../store/catalog-repositories.ts';
import { builtInCatalog } from './built-ins.ts';

export type { Client, Resource };

/**
 * What the token path reads on every request, held in memory so that it costs no query: roles in
 * priority order, resources and clients (secrets opened). Rebuilt whole when any of it changes.
 */
export interface Catalog {
  roles: readonly string[];
  resources: ReadonlyMap<string, Resource>;
  clients: ReadonlyMap<string, Client>;
  /** In login order; secret members of `config` still sealed. */
  connectors: readonly StoredConnector[];
  /** The longest lifetime of any JWT Lock signs with these settings, for key retention. */
  longestTokenTtl: number;
}

export const ID_TOKEN_TTL = TOKEN_LIFETIMES.IdToken;

/** The catalog as stored, plus the built-ins (which win over rows of the same id). */
export async function loadCatalog(db: pg.Pool, box: SecretBox, issuer: string): Promise<Catalog> {
  const [roles, resources, clients, connectors] = await Promise.all([
    listRoles(db),
    listResources(db),
    listClients(db),
    listConnectors(db),
  ]);
  const builtIns = builtInCatalog(issuer);
  return {
    roles: roles.map((role) => role.name),
    resources: new Map([
      ...resources.map(({ managedBy: _, ...resource }): [string, Resource] => [resource.id, resource]),
      ...builtIns.resources.map((resource): [string, Resource] => [resource.id, resource]),
    ]),
    clients: new Map([
      ...clients.map(({ managedBy: _, sealedSecret, ...client }): [string, Client] => [
        client.clientId,
        {
          ...client,
          ...(sealedSecret !== undefined && {
            clientSecret: box.open(sealedSecret, `client_secret:${client.clientId}`),
          }),
        },
      ]),
      ...builtIns.clients.map((client): [string, Client] => [client.clientId, client]),
    ]),
    connectors,
    longestTokenTtl: Math.max(ID_TOKEN_TTL, ...resources.map((resource) => resource.accessTokenTTL)),
  };
}
