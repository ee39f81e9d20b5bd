import { stringify } from 'yaml';
import { isSecretMember } from '../connectors/connector-secrets.ts';
import { ADMIN_ROLE } from '../model/admin-role.ts';
import {
  listClients,
  listConnectors,
  listResources,
  listRoleMappings,
  listRoles,
} from '../store/catalog-repositories.ts';
import {
  listDeclarativeSecretVariables,
  type SecretEntityKind,
} from '../store/declarative-secret-variables.ts';
import type { Queryable } from '../store/pool.ts';
import {
  listPasswordHashesForExport,
  listUsers,
  userDirectRoles,
  userGroupsAndRoles,
} from '../store/users.ts';

/** A variable the exported file expects, and what to set it to. */
export interface ExpectedVariable {
  name: string;
  holds: string;
}

export interface ExportedConfig {
  yaml: string;
  variables: ExpectedVariable[];
}

// What the declarative file interpolates: a stored value that looks like it must be escaped ($${).
const INTERPOLATION = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * The database's configuration as a declarative file that `lock config apply` accepts: roles,
 * resources, clients, connectors, role mappings and local users (with their argon2 hashes).
 * Secrets cannot leave in clear: each becomes a `${VARIABLE}` placeholder, listed in `variables`:
 * the variable the file set it from (recorded by the apply), or else a name made from its entity. Lock's own role and built-ins are left out: every Lock has them.
 */
export async function exportDeclarativeConfig(db: Queryable): Promise<ExportedConfig> {
  const variables: ExpectedVariable[] = [];
  // What the file set each of its secrets from: the table keeps names for file-owned entities
  // only, and an entity's names go with it (a client re-created through the API has none).
  const applied = new Map(
    (await listDeclarativeSecretVariables(db)).map((each) => [
      `${each.kind} ${each.id} ${each.path}`,
      each.variable,
    ]),
  );
  const fromFile = (kind: SecretEntityKind, id: string, path: string) => applied.get(`${kind} ${id} ${path}`);
  // The file's own variable when the secret came from the file (one variable may hold several
  // secrets); otherwise a name made from the entity, made unique.
  const placeholder = (name: string, holds: string, fileVariable: string | undefined) => {
    if (fileVariable !== undefined) {
      const known = variables.find((variable) => variable.name === fileVariable);
      if (known) known.holds = `${known.holds}; ${holds}`;
      else variables.push({ name: fileVariable, holds });
      return `\${${fileVariable}}`;
    }
    let unique = name;
    for (let n = 2; taken(unique); n++) unique = `${name}_${n}`;
    variables.push({ name: unique, holds });
    return `\${${unique}}`;
  };
  const taken = (name: string) =>
    variables.some((variable) => variable.name === name) || recordedNames.has(name);

  const roles = (await listRoles(db))
    .filter((role) => role.name !== ADMIN_ROLE)
    .map(({ name, description }) => ({ name, ...(description !== undefined && { description }) }));
  const resources = (await listResources(db)).map(({ managedBy: _, ...resource }) => resource);
  const storedClients = await listClients(db);
  const storedConnectors = await listConnectors(db);
  // A generated name never takes one of the file's variables (which hold other secrets).
  const recordedNames = new Set([
    ...storedClients.flatMap((c) =>
      c.sealedSecret === undefined ? [] : (fromFile('client', c.clientId, 'clientSecret') ?? []),
    ),
    ...storedConnectors.flatMap((c) =>
      secretPaths(c.config).flatMap((path) => fromFile('connector', c.id, path) ?? []),
    ),
  ]);
  const clients = storedClients.map(({ managedBy: _, sealedSecret, clientId, ...client }) => ({
    clientId,
    ...(sealedSecret !== undefined && {
      clientSecret: placeholder(
        `CLIENT_${envName(clientId)}_SECRET`,
        `the secret of client ${clientId}`,
        fromFile('client', clientId, 'clientSecret'),
      ),
    }),
    ...client,
  }));
  const connectors = storedConnectors.map(({ id, type, name, config }) => ({
    id,
    type,
    name,
    config: replaceSecrets(config, (path) =>
      placeholder(
        `CONNECTOR_${envName(id)}_${envName(path)}`,
        `${path} of connector ${id}`,
        fromFile('connector', id, path),
      ),
    ),
  }));
  const roleMappings = (await listRoleMappings(db)).map(({ managedBy: _, ...mapping }) => mapping);
  const hashes = await listPasswordHashesForExport(db);
  const users = [];
  for (const user of await listUsers(db)) {
    const passwordHash = hashes.get(user.id);
    users.push({
      username: user.username,
      ...(user.email !== undefined && { email: user.email }),
      ...(user.name !== undefined && { name: user.name }),
      ...(passwordHash !== undefined && { passwordHash }),
      groups: (await userGroupsAndRoles(db, user.id)).groups,
      roles: await userDirectRoles(db, user.id),
      disabled: user.disabled,
    });
  }

  const document = escapeInterpolation(
    { roles, resources, clients, connectors, roleMappings, users },
    variables,
  );
  const header = [
    `# Lock configuration exported ${new Date().toISOString()}: \`lock config apply\` accepts this file.`,
    '# Secrets are environment variable placeholders; set each variable before applying:',
    ...variables.map((variable) => `#   ${variable.name}: ${variable.holds}`),
    '# users[].passwordHash are argon2id hashes: keep this file as private as a password database.',
    '',
  ].join('\n');
  return { yaml: `${header}${stringify(document, { lineWidth: 0 })}`, variables };
}

/** `web-app` → `WEB_APP`, `groupSearch.bindPassword` → `GROUP_SEARCH_BIND_PASSWORD`. */
function envName(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
}

/** Secret members (sealed in the database) become placeholders; `path` names the member. */
function replaceSecrets(
  config: Record<string, unknown>,
  placeholder: (path: string) => string,
  prefix = '',
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => {
      const path = prefix ? `${prefix}.${key}` : key;
      if (isSecretMember(key) && value !== null && typeof value === 'object' && !Array.isArray(value))
        return [key, placeholder(path)];
      if (value !== null && typeof value === 'object' && !Array.isArray(value))
        return [key, replaceSecrets(value as Record<string, unknown>, placeholder, path)];
      return [key, value];
    }),
  );
}

/** The paths of a stored config's secret members, as replaceSecrets names them. */
function secretPaths(config: Record<string, unknown>): string[] {
  const paths: string[] = [];
  replaceSecrets(config, (path) => {
    paths.push(path);
    return '';
  });
  return paths;
}

/** Stored text that the file would read as `${VARIABLE}` is escaped (`$${…}`); placeholders are not. */
function escapeInterpolation<T>(value: T, variables: ExpectedVariable[]): T {
  const ours = new Set(variables.map((variable) => `\${${variable.name}}`));
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string')
      return ours.has(item) ? item : item.replace(INTERPOLATION, (match) => `$${match}`);
    if (Array.isArray(item)) return item.map(walk);
    if (item !== null && typeof item === 'object')
      return Object.fromEntries(Object.entries(item).map(([key, each]) => [key, walk(each)]));
    return item;
  };
  return walk(value) as T;
}
