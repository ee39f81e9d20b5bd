import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { type DeclarativeConfig, declarativeSchema } from './declarative-schema.ts';
import { ConfigError, describeIssues, formatPath } from './schema-errors.ts';

/** Reads, interpolates and validates a declarative YAML file; every problem names its field path. */
export async function loadDeclarativeFile(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DeclarativeConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  return parseDeclarative(text, path, env);
}

export function parseDeclarative(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): DeclarativeConfig {
  // Plain YAML only: no custom tags, anchors expanded with a bound (billion-laughs guard).
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0)
    throw new ConfigError(
      source,
      document.errors.map((error) => error.message),
    );
  const raw: unknown = document.toJS({ maxAliasCount: 100 }) ?? {};
  const unset: string[] = [];
  const interpolated = interpolate(raw, [], env, unset);
  const result = declarativeSchema.safeParse(interpolated);
  // A value left empty by an unset variable is reported once, as the variable, not again by the schema.
  const unsetPaths = new Set(unset.map((problem) => problem.slice(0, problem.indexOf(': '))));
  const problems = [
    ...unset,
    ...(result.success
      ? []
      : describeIssues(result.error.issues).filter(
          (problem) => !unsetPaths.has(problem.slice(0, problem.indexOf(': '))),
        )),
  ];
  if (problems.length > 0 || !result.success) throw new ConfigError(source, problems);
  const duplicates = findDuplicateIds(result.data);
  if (duplicates.length > 0) throw new ConfigError(source, duplicates);
  return result.data;
}

/** `${NAME}` and `${NAME:-default}` in string values; `$${` writes a literal `${`. */
function interpolate(
  value: unknown,
  path: PropertyKey[],
  env: NodeJS.ProcessEnv,
  problems: string[],
): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (match, escaped, name, fallback) => {
        if (escaped) return match.slice(1);
        const found = env[name];
        if (found !== undefined && found !== '') return found;
        if (fallback !== undefined) return fallback;
        problems.push(`${formatPath(path) || '(top level)'}: environment variable ${name} is not set`);
        return '';
      },
    );
  }
  if (Array.isArray(value))
    return value.map((item, index) => interpolate(item, [...path, index], env, problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, [...path, key], env, problems)]),
    );
  }
  return value;
}

function findDuplicateIds(config: DeclarativeConfig): string[] {
  const problems: string[] = [];
  const check = <T>(section: string, items: T[], key: (item: T) => string, field: string) => {
    const seen = new Map<string, number>();
    items.forEach((item, index) => {
      const id = key(item);
      const first = seen.get(id);
      if (first === undefined) seen.set(id, index);
      else
        problems.push(`${section}[${index}].${field}: "${id}" is already declared at ${section}[${first}]`);
    });
  };
  check('roles', config.roles, (role) => role.name, 'name');
  check('resources', config.resources, (resource) => resource.id, 'id');
  check('clients', config.clients, (client) => client.clientId, 'clientId');
  check('connectors', config.connectors, (connector) => connector.id, 'id');
  check('roleMappings', config.roleMappings, (mapping) => `${mapping.connector} ${mapping.group}`, 'group');
  check('users', config.users, (user) => user.username.toLowerCase(), 'username');
  return problems;
}
