import { isDeepStrictEqual } from 'node:util';
import type pg from 'pg';
import { recordAuditEvent } from '../../audit/audit.ts';
import { builtInCatalog } from '../../catalog/built-ins.ts';
import type { DeclarativeConfig } from '../../config/declarative-schema.ts';
import { ConfigError } from '../../config/schema-errors.ts';
import { sealConnectorSecrets } from '../../connectors/connector-secrets.ts';
import { IMPLICIT_LOCAL_CONNECTOR } from '../../connectors/registry.ts';
import { ADMIN_ROLE, adminRoleGrantWarning } from '../../model/admin-role.ts';
import type { SecretBox } from '../../security/secret-box.ts';
import * as repo from '../../store/catalog-repositories.ts';
import { notifyChange } from '../../store/change-feed.ts';
import { tx } from '../../store/pool.ts';
import { AdminLockoutError, keepingAdminSignIn } from '../admin-sign-in.ts';
import type { ApplySummary } from './apply-summary.ts';
import { applyDeclaredUsers } from './apply-users.ts';
import { recordApplied } from './secret-variables.ts';

const CONFIG: repo.ManagedBy = 'config';

/**
 * Makes the database match the file, in one transaction: what the file declares is created or
 * updated (and from then on owned by the file), what an earlier apply created and the file no
 * longer declares is removed, and what admins created is left alone. Applying the same file twice
 * changes nothing.
 */
export async function applyDeclarativeConfig(
  pool: pg.Pool,
  box: SecretBox,
  config: DeclarativeConfig,
  issuer: string,
): Promise<ApplySummary> {
  return tx(pool, async (client) => {
    await repo.lockCatalogForWrite(client);
    await checkReferences(client, config, builtInCatalog(issuer));
    return keepingAdminSignIn(client, () => reconcileAll(client, box, config)).catch((error: unknown) => {
      if (error instanceof AdminLockoutError)
        throw new ConfigError('the declarative configuration', [error.message]);
      throw error;
    });
  });
}

async function reconcileAll(
  client: pg.PoolClient,
  box: SecretBox,
  config: DeclarativeConfig,
): Promise<ApplySummary> {
  const summary: ApplySummary = { created: [], updated: [], removed: [], unchanged: 0, warnings: [] };
  const reconcile = reconciler(summary);

  await reconcile({
    kind: 'role',
    declared: config.roles.map((role, position) => ({ ...role, position })),
    existing: await repo.listRoles(client),
    key: (role) => role.name,
    write: (role) => repo.upsertRole(client, role, role.position, CONFIG),
    remove: (name) => repo.deleteRole(client, name),
  });

  await reconcile({
    kind: 'resource',
    declared: config.resources,
    existing: await repo.listResources(client),
    key: (resource) => resource.id,
    write: (resource) => repo.upsertResource(client, resource, CONFIG),
    remove: (id) => repo.deleteResource(client, id),
  });

  const existingClients = await repo.listClients(client);
  for (const declared of config.clients) {
    const before = existingClients.find((stored) => stored.clientId === declared.clientId);
    if (!declared.roles.includes(ADMIN_ROLE) || before?.roles.includes(ADMIN_ROLE)) continue;
    summary.warnings.push(adminRoleGrantWarning(declared.clientId));
    await recordAuditEvent(client, {
      type: 'admin.client.admin_role_granted',
      outcome: 'success',
      actor: 'lock config apply',
      subject: declared.clientId,
      details: { role: ADMIN_ROLE, grantTypes: declared.grantTypes },
    });
  }
  await reconcile({
    kind: 'client',
    declared: config.clients.map(({ clientSecret, ...declared }) => ({
      ...declared,
      ...(clientSecret !== undefined && { clientSecret }),
    })),
    existing: existingClients.map(({ sealedSecret, ...stored }) => ({
      ...stored,
      ...(sealedSecret !== undefined && {
        clientSecret: box.open(sealedSecret, `client_secret:${stored.clientId}`),
      }),
    })),
    key: (declared) => declared.clientId,
    write: ({ clientSecret, ...declared }) =>
      repo.upsertClient(client, {
        ...declared,
        ...(clientSecret !== undefined && {
          sealedSecret: box.seal(clientSecret, `client_secret:${declared.clientId}`),
        }),
        managedBy: CONFIG,
      }),
    remove: (clientId) => repo.deleteClient(client, clientId),
  });

  const existingConnectors = await repo.listConnectors(client);
  await reconcile({
    kind: 'connector',
    declared: config.connectors.map((connector, position) => ({ ...connector, position })),
    existing: existingConnectors.map((connector) => ({
      ...connector,
      config: sealConnectorSecrets.open(connector.config, box, connector.id),
    })),
    key: (connector) => connector.id,
    write: (connector) =>
      repo.upsertConnector(client, {
        ...connector,
        config: sealConnectorSecrets.seal(connector.config, box, connector.id),
        managedBy: CONFIG,
      }),
    remove: (id) => repo.deleteConnector(client, id),
  });

  await reconcile({
    kind: 'roleMapping',
    declared: config.roleMappings,
    existing: await repo.listRoleMappings(client),
    key: (mapping) => `${mapping.connector} → ${mapping.group}`,
    write: (mapping) => repo.upsertRoleMapping(client, mapping, CONFIG),
    remove: (key) => {
      const [connector, group] = key.split(' → ') as [string, string];
      return repo.deleteRoleMapping(client, connector, group);
    },
  });

  await applyDeclaredUsers(client, config.users, summary);
  // The declared secrets' variable names (for `lock config export`), and the apply's audit event.
  await recordApplied(client, config, {
    created: summary.created.length,
    updated: summary.updated.length,
    removed: summary.removed.length,
  });

  if (summary.created.length + summary.updated.length + summary.removed.length > 0)
    await notifyChange(client, 'catalog');
  return summary;
}

interface Section<T> {
  kind: string;
  declared: T[];
  existing: Array<T & { managedBy: repo.ManagedBy }>;
  key: (item: T) => string;
  write: (item: T) => Promise<void>;
  remove: (key: string) => Promise<void>;
}

function reconciler(summary: ApplySummary) {
  return async function reconcile<T>(section: Section<T>): Promise<void> {
    const existing = new Map(section.existing.map((item) => [section.key(item), item]));
    const declaredKeys = new Set<string>();
    for (const item of section.declared) {
      const key = section.key(item);
      declaredKeys.add(key);
      const current = existing.get(key);
      if (current === undefined) {
        await section.write(item);
        summary.created.push(`${section.kind} ${key}`);
        continue;
      }
      const { managedBy, ...currentItem } = current;
      if (managedBy === CONFIG && isDeepStrictEqual(currentItem, item)) {
        summary.unchanged++;
        continue;
      }
      await section.write(item);
      summary.updated.push(`${section.kind} ${key}`);
    }
    for (const [key, item] of existing) {
      if (item.managedBy !== CONFIG || declaredKeys.has(key)) continue;
      await section.remove(key);
      summary.removed.push(`${section.kind} ${key}`);
    }
  };
}

/** Names the field of every reference to a role, resource or connector that will not exist. */
async function checkReferences(
  db: pg.PoolClient,
  config: DeclarativeConfig,
  builtIns: ReturnType<typeof builtInCatalog>,
): Promise<void> {
  const adminOwned = <T extends { managedBy: repo.ManagedBy }>(items: T[]) =>
    items.filter((item) => item.managedBy !== CONFIG);
  const roles = new Set([
    ...config.roles.map((r) => r.name),
    ...adminOwned(await repo.listRoles(db)).map((r) => r.name),
  ]);
  const resources = new Set([
    ...builtIns.resources.map((r) => r.id),
    ...config.resources.map((r) => r.id),
    ...adminOwned(await repo.listResources(db)).map((r) => r.id),
  ]);
  const connectors = new Set([
    IMPLICIT_LOCAL_CONNECTOR.id, // Lock's own accounts: there unless a file or an admin turns them off
    ...config.connectors.map((c) => c.id),
    ...adminOwned(await repo.listConnectors(db)).map((c) => c.id),
  ]);
  const problems: string[] = [];
  for (const [i, client] of config.clients.entries())
    if (builtIns.clients.some((builtIn) => builtIn.clientId === client.clientId))
      problems.push(`clients[${i}].clientId: "${client.clientId}" is built into Lock`);
  for (const [i, resource] of config.resources.entries())
    if (builtIns.resources.some((builtIn) => builtIn.id === resource.id))
      problems.push(`resources[${i}].id: "${resource.id}" is built into Lock`);
  const each = (names: string[], known: Set<string>, path: string, what: string) =>
    names.forEach((name, index) => {
      if (!known.has(name)) problems.push(`${path}[${index}]: unknown ${what} "${name}"`);
    });
  for (const [i, resource] of config.resources.entries())
    each(resource.roles, roles, `resources[${i}].roles`, 'role');
  config.clients.forEach((client, i) => {
    each(client.roles, roles, `clients[${i}].roles`, 'role');
    each(client.resources, resources, `clients[${i}].resources`, 'resource');
    each(client.introspects, resources, `clients[${i}].introspects`, 'resource');
    each(
      client.tokenExchange?.subjectAudiences ?? [],
      resources,
      `clients[${i}].tokenExchange.subjectAudiences`,
      'resource',
    );
  });
  config.roleMappings.forEach((mapping, i) => {
    each(mapping.roles, roles, `roleMappings[${i}].roles`, 'role');
    if (mapping.connector !== '*' && !connectors.has(mapping.connector))
      problems.push(
        `roleMappings[${i}].connector: unknown connector "${mapping.connector}": declare it under connectors, ` +
          'or name local (Lock’s own accounts, there without declaring) or * (any connector)',
      );
  });
  if (problems.length > 0) throw new ConfigError('the declarative configuration', problems);
}
