import type { z } from 'zod';
import { issueProblems } from '../config/schema-errors.ts';
import { invalidInput } from '../observability/errors.ts';

/** Parses admin input with a declarative-file schema; every problem names its field path. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw invalidInput(issueProblems(parsed.error.issues));
  return parsed.data;
}

/** Members of a representation that the server sets: accepted back on input (GET → edit → PUT) and ignored. */
export function withoutReadOnly(input: unknown, readOnly: readonly string[]): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  return Object.fromEntries(Object.entries(input).filter(([key]) => !readOnly.includes(key)));
}

/** The identifier in the path wins; a body naming another one is a mistake, not a rename. */
export function withPathId(input: unknown, field: string, id: string): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  const given = (input as Record<string, unknown>)[field];
  if (given !== undefined && given !== id)
    throw invalidInput([
      { path: field, message: `is "${String(given)}" but the URL names "${id}": renaming is not supported` },
    ]);
  return { ...input, [field]: id };
}

/** RFC 7396 JSON merge patch: objects merge member by member, null removes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}
