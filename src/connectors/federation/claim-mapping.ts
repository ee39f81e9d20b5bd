import { z } from 'zod';

/**
 * Where each of a person's attributes is read in the upstream's claims (ID token and userinfo
 * merged, or an OAuth 2.0 userinfo document): dot paths (`profile.login`), and for a list
 * `[].login` (each element's `login`; `[]` alone: the elements themselves).
 */
const claimPath = z
  .string()
  .min(1)
  .max(200)
  .regex(
    /^(\[\](\.[^.[\]]+)*|[^.[\]]+(\.[^.[\]]+)*(\[\](\.[^.[\]]+)*)?)$/,
    'a dot path (`a.b`), optionally through one list (`a[].b`, `[].login`)',
  );

export const claimMappingSchema = z.strictObject({
  /** The upstream's stable id where the subject is not (OAuth 2.0 userinfo `id`); OIDC uses `sub`. */
  id: claimPath.optional(),
  username: claimPath.default('preferred_username'),
  email: claimPath.default('email'),
  name: claimPath.default('name'),
  groups: claimPath.default('groups'),
});

export type ClaimMapping = z.output<typeof claimMappingSchema>;

/** The value at `path` in `source`; a list path gives the list of values found (missing ones left out). */
export function readClaimPath(source: unknown, path: string): unknown {
  const listAt = path.indexOf('[]');
  if (listAt === -1) return readDotted(source, path);
  const list = listAt === 0 ? source : readDotted(source, path.slice(0, listAt));
  if (!Array.isArray(list)) return undefined;
  const rest = path.slice(listAt + 2).replace(/^\./, '');
  return list
    .map((item) => (rest === '' ? item : readDotted(item, rest)))
    .filter((item) => item !== undefined);
}

function readDotted(source: unknown, path: string): unknown {
  let value = source;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    if (!Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A claim as one string: strings as they are, numbers (GitHub's numeric ids) as decimal text. */
export function claimText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/** Group names: a list of strings (or numbers), or one string; anything else is no groups. */
export function claimTexts(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return [...new Set(items.map(claimText).filter((item): item is string => item !== undefined))];
}

/** The person's attributes mapped from the upstream's claims. */
export interface MappedClaims {
  id?: string;
  username?: string;
  email?: string;
  name?: string;
  groups: string[];
}

export function mapClaims(source: unknown, mapping: ClaimMapping): MappedClaims {
  const text = (path: string | undefined) =>
    path === undefined ? undefined : claimText(readClaimPath(source, path));
  const id = text(mapping.id);
  const username = text(mapping.username);
  const email = text(mapping.email);
  const name = text(mapping.name);
  return {
    ...(id !== undefined && { id }),
    ...(username !== undefined && { username }),
    ...(email !== undefined && { email }),
    ...(name !== undefined && { name }),
    groups: claimTexts(readClaimPath(source, mapping.groups)),
  };
}
