import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { describeMalformedText } from '../model/text.ts';
import type { DeclarativeConfig, DeclarativeSchema } from './declarative-schema.ts';
import { ConfigError, describeIssues, formatPath } from './schema-errors.ts';

/** Reads, interpolates and validates a declarative YAML file; every problem names its field path. */
export async function readDeclarativeFile(
  path: string,
  schema: DeclarativeSchema,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DeclarativeConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  return parseDeclarativeText(text, path, schema, env);
}

/** A value the file wrote as exactly `${NAME}` (or `${NAME:-default}`), at its path (`clients[1].clientSecret`). */
export interface DeclaredVariable {
  path: string;
  name: string;
}

// Beside the parsed file rather than in it: the file's schema (and every comparison of it) stays as it is.
const declaredVariables = new WeakMap<DeclarativeConfig, DeclaredVariable[]>();

/**
 * The variables a parsed file took its values from, by path: what applying it records, so that
 * `lock config export` writes the same `${NAME}` back for the secrets it cannot export.
 */
export const variablesOf = (config: DeclarativeConfig): DeclaredVariable[] =>
  declaredVariables.get(config) ?? [];

export function parseDeclarativeText(
  text: string,
  source: string,
  schema: DeclarativeSchema,
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
  const variables: DeclaredVariable[] = [];
  const interpolated = interpolate(raw, [], env, unset, variables);
  const result = schema.safeParse(interpolated);
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
  // Duplicates are looked for in the file as written, so they are listed with the schema's problems.
  problems.push(...findDuplicateIds(interpolated));
  if (problems.length > 0 || !result.success) throw new ConfigError(source, problems);
  declaredVariables.set(result.data, variables);
  return result.data;
}

const WHOLE_VARIABLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}$/;

/** `${NAME}` and `${NAME:-default}` in string values; `$${` writes a literal `${`. */
function interpolate(
  value: unknown,
  path: PropertyKey[],
  env: NodeJS.ProcessEnv,
  problems: string[],
  variables: DeclaredVariable[],
): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_VARIABLE.exec(value);
    if (whole) variables.push({ path: formatPath(path), name: whole[1]! });
    // Before any query sees it: PostgreSQL refuses NUL, and no field takes other control characters.
    const malformed = describeMalformedText(value);
    if (malformed) problems.push(`${formatPath(path) || '(top level)'}: contains ${malformed}`);
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
    return value.map((item, index) => interpolate(item, [...path, index], env, problems, variables));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => {
        const malformed = describeMalformedText(key);
        if (malformed) problems.push(`${formatPath(path) || '(top level)'}: a key contains ${malformed}`);
        return [key, interpolate(item, [...path, key], env, problems, variables)];
      }),
    );
  }
  return value;
}

/** Entries declared twice, read from the unvalidated file: entries without a usable key are skipped. */
function findDuplicateIds(file: unknown): string[] {
  const problems: string[] = [];
  const sections = (file ?? {}) as Record<string, unknown>;
  type Entry = Record<string, unknown>;
  const check = (section: string, key: (item: Entry) => unknown, field: string) => {
    const items = sections[section];
    if (!Array.isArray(items)) return;
    const seen = new Map<string, number>();
    items.forEach((item: unknown, index) => {
      if (item === null || typeof item !== 'object') return;
      const id = key(item as Entry);
      if (typeof id !== 'string') return;
      const first = seen.get(id);
      if (first === undefined) seen.set(id, index);
      else
        problems.push(`${section}[${index}].${field}: "${id}" is already declared at ${section}[${first}]`);
    });
  };
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  check('roles', (role) => role.name, 'name');
  check('resources', (resource) => resource.id, 'id');
  check('clients', (client) => client.clientId, 'clientId');
  check('connectors', (connector) => connector.id, 'id');
  check(
    'roleMappings',
    (mapping) =>
      text(mapping.connector) !== undefined && text(mapping.group) !== undefined
        ? `${mapping.connector} ${mapping.group}`
        : undefined,
    'group',
  );
  check('users', (user) => text(user.username)?.toLowerCase(), 'username');
  return problems;
}
