/** Helpers for connector config schemas' cross-field checks. */

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * For `.superRefine(check, evenWithOtherProblems)`: zod skips a refinement once a member failed its
 * own check, so an answer named one problem and hid the rest. With this the check runs whenever
 * there is an object to read — so it must read its input defensively (any member may be missing
 * or of the wrong type) — and one answer lists every problem.
 */
export const evenWithOtherProblems = { when: (payload: { value: unknown }) => isObject(payload.value) };
