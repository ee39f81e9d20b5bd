import type { Entry } from 'ldapts';

/**
 * A search result entry with its attributes looked up case-insensitively. ldapts gives one value as
 * a string, several as an array and a missing one as `[]`; here every attribute is a list.
 */
export class DirectoryEntry {
  readonly dn: string;
  readonly #attributes = new Map<string, Array<string | Buffer>>();

  constructor(entry: Entry) {
    this.dn = entry.dn;
    for (const [name, value] of Object.entries(entry)) {
      if (name === 'dn') continue;
      this.#attributes.set(name.toLowerCase(), Array.isArray(value) ? value : [value]);
    }
  }

  /** The attribute's text values; `dn` is the entry's DN. */
  values(attribute: string): string[] {
    if (attribute.toLowerCase() === 'dn') return [this.dn];
    return (this.#attributes.get(attribute.toLowerCase()) ?? []).map((value) =>
      Buffer.isBuffer(value) ? value.toString('utf8') : value,
    );
  }

  first(attribute: string): string | undefined {
    return this.values(attribute)[0];
  }

  /** An attribute asked for as binary (`binaryAttributes`), e.g. AD's objectGUID. */
  binary(attribute: string): Buffer | undefined {
    const value = this.#attributes.get(attribute.toLowerCase())?.[0];
    return Buffer.isBuffer(value) ? value : undefined;
  }
}
