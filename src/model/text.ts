/**
 * Characters no field of Lock's takes: PostgreSQL's text refuses NUL (0x00), jsonb refuses \u0000
 * and lone surrogates, and the other C0 controls have no place in an identifier, a parameter or a
 * name (tab, line feed and carriage return stay: PEM documents, XML, descriptions).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;

/** What is wrong with a piece of text from outside, in words for a message; undefined when nothing. */
export function describeMalformedText(value: string): string | undefined {
  const control = CONTROL_CHARACTER.exec(value);
  if (control)
    return `a control character (U+${control[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()})`;
  if (!value.isWellFormed()) return 'an unpaired surrogate (not Unicode text)';
  return undefined;
}
