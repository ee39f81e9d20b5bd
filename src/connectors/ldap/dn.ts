/**
 * Distinguished names (RFC 4514) as far as the connector needs them: split into RDNs with the
 * escapes undone, compared with attribute types case-insensitive (RFC 4512 §2.5) and values
 * case-insensitive (the directory attributes of a DN — cn, ou, dc, o, uid — match with
 * caseIgnoreMatch in OpenLDAP, and Active Directory compares every DN case-insensitively).
 */

/** One attribute-value pair of an RDN, escapes undone; `type` as written. */
export interface Ava {
  type: string;
  value: string;
}

/** An RDN: one AVA, or several joined by `+`. */
export type Rdn = Ava[];

const HEX_PAIR = /^[0-9a-f]{2}$/i;

/**
 * The RDNs of a DN, leftmost first; undefined when it is not a DN. Separators inside escapes
 * (`\,`, `\2C`) belong to the value, so `cn=a\,ou=groups,dc=x` has two RDNs, not three.
 */
export function parseDn(dn: string): Rdn[] | undefined {
  if (dn.trim() === '') return [];
  const rdns: Rdn[] = [];
  let rdn: Rdn = [];
  let index = 0;
  for (;;) {
    const equals = dn.indexOf('=', index);
    if (equals < 0) return undefined;
    const type = dn.slice(index, equals).trim();
    if (!/^([A-Za-z][A-Za-z0-9-]*|\d+(\.\d+)*)$/.test(type)) return undefined;
    const bytes: number[] = [];
    // Unescaped spaces at either end of a value are not part of it (RFC 4514 §2.4, RFC 2253 leniency).
    let significantEnd = 0;
    index = equals + 1;
    while (index < dn.length && dn[index] === ' ') index++;
    let separator: string | undefined;
    for (; index < dn.length; index++) {
      const char = dn[index]!;
      if (char === ',' || char === '+' || char === ';') {
        separator = char;
        break;
      }
      if (char !== '\\') {
        bytes.push(...Buffer.from(char, 'utf8'));
        if (char !== ' ') significantEnd = bytes.length;
        continue;
      }
      const hex = dn.slice(index + 1, index + 3);
      if (HEX_PAIR.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        index += 2;
      } else if (index + 1 < dn.length) {
        bytes.push(...Buffer.from(dn[index + 1]!, 'utf8'));
        index += 1;
      } else return undefined; // a trailing lone backslash
      significantEnd = bytes.length;
    }
    rdn.push({ type, value: Buffer.from(bytes.slice(0, significantEnd)).toString('utf8') });
    if (separator !== '+') {
      rdns.push(rdn);
      rdn = [];
    }
    if (separator === undefined) return rdns;
    index += 1;
  }
}

/**
 * The first RDN of a DN, e.g. `cn` = `Smith, John` of `CN=Smith\, John,OU=People,…`: enough to
 * name a group by its DN without another search. Multi-valued RDNs (`a=1+b=2`) give their first part.
 */
export function firstRdn(dn: string): { attribute: string; value: string } | undefined {
  const ava = parseDn(dn)?.[0]?.[0];
  return ava && { attribute: ava.type, value: ava.value };
}

const avaKey = (ava: Ava) => `${ava.type.toLowerCase()}=${ava.value.toLowerCase()}`;
// The AVAs of a multi-valued RDN are a set: their order does not matter.
const rdnKey = (rdn: Rdn) => rdn.map(avaKey).sort().join('+');

/** True when both are DNs naming the same entry (types and values compared case-insensitively). */
export function sameDn(a: string, b: string): boolean {
  const left = parseDn(a);
  const right = parseDn(b);
  if (!left || !right || left.length !== right.length) return false;
  return left.every((rdn, index) => rdnKey(rdn) === rdnKey(right[index]!));
}

/**
 * True when `dn` is `base` itself or below it, compared RDN by RDN (never as text: `ou=xgroups`
 * is not under `ou=groups`, nor is `cn=a\,ou=groups,dc=x` under `ou=groups,dc=x`). With scope
 * `one` only direct children count (and the base itself does not), as an LDAP search would find them.
 */
export function isDnWithin(dn: string, base: string, scope: 'sub' | 'one' = 'sub'): boolean {
  const entry = parseDn(dn);
  const under = parseDn(base);
  if (!entry || !under) return false;
  const depth = entry.length - under.length;
  if (scope === 'one' ? depth !== 1 : depth < 0) return false;
  return under.every((rdn, index) => rdnKey(rdn) === rdnKey(entry[depth + index]!));
}

/** An attribute value written for a DN string (RFC 4514 §2.4): what parseDn reads back. */
export function escapeDnValue(value: string): string {
  let out = '';
  for (let index = 0; index < value.length; index++) {
    const char = value[index]!;
    const edge = index === 0 || index === value.length - 1;
    if ('"+,;<>\\='.includes(char) || (char === '#' && index === 0) || (char === ' ' && edge))
      out += `\\${char}`;
    else if (char === '\0') out += '\\00';
    else out += char;
  }
  return out;
}
