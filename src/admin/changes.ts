/** One changed field of an entity, for its audit event; a secret's change is named, never shown. */
export interface FieldChange {
  path: string;
  from?: unknown;
  to?: unknown;
  secret?: true;
}

/**
 * The leaf fields that differ between two versions of an entity (arrays compare whole). Fields
 * whose path `isSecret` says hold a secret appear with `secret: true` and no values.
 */
export function changedFields(
  before: unknown,
  after: unknown,
  isSecret: (path: string) => boolean = () => false,
  prefix = '',
): FieldChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) =>
      changedFields(before[key], after[key], isSecret, prefix ? `${prefix}.${key}` : key),
    );
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (isSecret(prefix)) return [{ path: prefix, secret: true }];
  return [
    {
      path: prefix,
      ...(before !== undefined && { from: before }),
      ...(after !== undefined && { to: after }),
    },
  ];
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
