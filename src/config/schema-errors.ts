import type { z } from 'zod';

/** `clients[1].grantTypes[0]` from zod's `['clients', 1, 'grantTypes', 0]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** One line per problem, each naming the field: `clients[1].grantTypes[0]: must be one of …`. */
export function describeIssues(
  issues: ReadonlyArray<z.core.$ZodIssue>,
  prefix: ReadonlyArray<PropertyKey> = [],
): string[] {
  return issues.map((issue) => {
    const path = formatPath([...prefix, ...issue.path]) || '(top level)';
    return `${path}: ${describeIssue(issue)}`;
  });
}

/** The same, as `{ path, message }` pairs (the admin API's `problems`); the top level is path "". */
export function issueProblems(
  issues: ReadonlyArray<z.core.$ZodIssue>,
): Array<{ path: string; message: string }> {
  return issues.map((issue) => ({ path: formatPath(issue.path), message: describeIssue(issue) }));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'invalid_type':
      return /received undefined$/.test(issue.message) ? 'is required' : `must be ${article(issue.expected)}`;
    case 'unrecognized_keys':
      return `unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}`;
    // zod's own wording ("Too small: expected number to be >=1") rewritten; a schema's message kept.
    case 'too_small':
      return isZodWording(issue.message)
        ? `must be at least ${bound(issue.origin, issue.minimum, issue.inclusive ? 0 : 1)}`
        : issue.message;
    case 'too_big':
      return isZodWording(issue.message)
        ? `must be at most ${bound(issue.origin, issue.maximum, issue.inclusive ? 0 : -1)}`
        : issue.message;
    case 'invalid_format':
      return isZodWording(issue.message) ? `must be a valid ${issue.format}` : issue.message;
    default:
      return issue.message;
  }
}

const isZodWording = (message: string) => /^(Too (small|big)|Invalid)\b/.test(message);

function bound(origin: string, limit: number | bigint, step: number): string {
  const value = typeof limit === 'bigint' ? limit + BigInt(step) : limit + step;
  if (origin === 'string') return `${value} ${value === 1 ? 'character' : 'characters'} long`;
  if (origin === 'array' || origin === 'set') return `${value} ${value === 1 ? 'item' : 'items'}`;
  return String(value);
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`${source} is invalid:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}
