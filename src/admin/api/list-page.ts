import { z } from 'zod';
import { invalidInput } from '../../observability/errors.ts';

/**
 * Paging and search for the lists the catalog keeps whole (clients, APIs, roles, mappings,
 * connectors, groups): the catalog is small and read in one query, so a page is cut from it here,
 * in the list's own order. The cursor is the position after the page; `q` matches any text member.
 */
export const catalogListQuery = z.strictObject({
  q: z.string().min(1).max(256).optional().describe('text that a member of the item contains (any case)'),
  limit: z.coerce.number().int().min(1).max(500).default(200),
  cursor: z.string().max(64).optional().describe('the `next` of the previous page'),
});

export type CatalogListQuery = z.output<typeof catalogListQuery>;

const encodeCursor = (offset: number) => Buffer.from(`page:${offset}`).toString('base64url');

function decodeCursor(cursor: string): number {
  const offset = /^page:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))?.[1];
  if (offset === undefined)
    throw invalidInput([{ path: 'cursor', message: 'is not a cursor this API gave out' }], 400);
  return Number(offset);
}

/** The text members of an item (strings, and strings in arrays), lower-cased, for `q`. */
function textOf(item: unknown): string {
  if (item === null || typeof item !== 'object') return '';
  const parts: string[] = [];
  for (const value of Object.values(item)) {
    if (typeof value === 'string') parts.push(value);
    else if (Array.isArray(value)) for (const each of value) if (typeof each === 'string') parts.push(each);
  }
  return parts.join('\n').toLowerCase();
}

export function pageOf<T>(
  items: readonly T[],
  query: Record<string, unknown>,
): { items: T[]; next: string | null } {
  const { q, limit, cursor } = query as Partial<CatalogListQuery>;
  const size = limit ?? 200;
  const needle = q?.toLowerCase();
  const matching = needle ? items.filter((item) => textOf(item).includes(needle)) : [...items];
  const start = cursor === undefined ? 0 : decodeCursor(cursor);
  const page = matching.slice(start, start + size);
  return { items: page, next: start + size < matching.length ? encodeCursor(start + size) : null };
}
