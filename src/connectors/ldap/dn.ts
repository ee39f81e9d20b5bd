/**
 * The first RDN of a DN (RFC 4514), e.g. `cn` = `Smith, John` of `CN=Smith\, John,OU=People,…`:
 * enough to name a group by its DN without another search. Multi-valued RDNs (`a=1+b=2`) give
 * their first part.
 */
export function firstRdn(dn: string): { attribute: string; value: string } | undefined {
  const equals = dn.indexOf('=');
  if (equals <= 0) return undefined;
  const attribute = dn.slice(0, equals).trim();
  const bytes: number[] = [];
  for (let index = equals + 1; index < dn.length; index++) {
    const char = dn[index]!;
    if (char === ',' || char === '+' || char === ';') break;
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const hex = dn.slice(index + 1, index + 3);
    if (/^[0-9a-f]{2}$/i.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      index += 2;
    } else if (index + 1 < dn.length) {
      bytes.push(...Buffer.from(dn[index + 1]!, 'utf8'));
      index += 1;
    }
  }
  return { attribute, value: Buffer.from(bytes).toString('utf8').trim() };
}
