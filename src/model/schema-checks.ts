/** Pieces the entity schemas share: names, URLs, no-repeat lists, and cross-field checks. */
import { z } from 'zod';

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * For `.superRefine(check, evenWithOtherProblems)`: zod skips a refinement once a member failed its
 * own check, so an answer named one problem and hid the rest. With this the check runs whenever
 * there is an object to read — so it must read its input defensively (any member may be missing
 * or of the wrong type) — and one answer lists every problem.
 */
export const evenWithOtherProblems = { when: (payload: { value: unknown }) => isObject(payload.value) };

/** The name of a role, connector or mapping target. */
export const entityName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,62}$/, 'must be 1-63 letters, digits, _ . : -');

export const absoluteUrl = z.url({ message: 'must be an absolute URL' });

/** The members of a half-parsed object whose type is as expected; others read as undefined. */
export function partial<T extends Record<string, unknown>>(
  value: unknown,
  types: Partial<Record<keyof T, 'boolean' | 'string' | 'array' | 'object'>>,
): Partial<T> {
  const record = (value ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) {
    const expected = types[key as keyof T];
    const ok =
      expected === undefined ||
      (expected === 'array'
        ? Array.isArray(item)
        : expected === 'object'
          ? item !== null && typeof item === 'object' && !Array.isArray(item)
          : typeof item === expected);
    if (ok) out[key] = item;
  }
  return out as Partial<T>;
}

/** A list whose items must not repeat. */
export const unique = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item).refine((list) => new Set(list).size === list.length, `${what} must not repeat`);
