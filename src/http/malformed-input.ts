import { CONTROL_CHARACTER as CONTROL, describeMalformedText as describe } from '../model/text.ts';

/** A control character written as `%00`…`%1F` (tab, LF and CR included: the decoded check decides). */
const ENCODED_CONTROL = /%[01][0-9a-f]/i;

/** How a field is named in a message: as sent, unless its name is itself the problem. */
function quoted(name: string): string {
  return describe(name) === undefined && name.length <= 64 ? `"${name}"` : JSON.stringify(name.slice(0, 64));
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // the routers keep what does not decode as it is
  }
}

/** The path's segments as the routers decode them into ids (`/interaction/%00/login`). */
export function malformedPath(path: string): string | undefined {
  if (!path.includes('%')) return undefined;
  for (const segment of path.split('/')) {
    const problem = describe(safeDecode(segment));
    if (problem) return `the path contains ${problem}`;
  }
  return undefined;
}

/** Query string and form bodies: `name=value&…`, percent-encoded. */
export function malformedParameters(
  encoded: string,
  where: 'query parameter' | 'form field',
): string | undefined {
  if (!ENCODED_CONTROL.test(encoded) && !CONTROL.test(encoded)) return undefined; // the usual case
  for (const [name, value] of new URLSearchParams(encoded)) {
    const problem = describe(name) ?? describe(value);
    if (problem) return `the ${where} ${quoted(name)} contains ${problem}`;
  }
  return undefined;
}

/** A JSON body: every member name and string, named by its path (`config.bindDN`, `groups[2]`). */
export function malformedJson(text: string): string | undefined {
  if (!text.includes('\\u')) return undefined; // raw controls are invalid JSON: the route answers that
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return undefined; // the route that reads it answers 400 with the parser's message
  }
  const stack: Array<[unknown, string]> = [[document, '']];
  while (stack.length > 0) {
    const [value, at] = stack.pop()!;
    if (typeof value === 'string') {
      const problem = describe(value);
      if (problem) return `the JSON member ${quoted(at || '(the body)')} contains ${problem}`;
    } else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) stack.push([item, `${at}[${index}]`]);
    } else if (value !== null && typeof value === 'object')
      for (const [name, member] of Object.entries(value)) {
        const path = at === '' ? name : `${at}.${name}`;
        const problem = describe(name);
        if (problem) return `the JSON member name ${quoted(path)} contains ${problem}`;
        stack.push([member, path]);
      }
  }
  return undefined;
}

/** PostgreSQL's data exceptions (class 22) and "program limit exceeded": a value it would not take. */
export function isRefusedValue(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code === '54000');
}
