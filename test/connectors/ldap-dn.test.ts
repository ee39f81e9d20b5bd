import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { escapeDnValue, firstRdn, isDnWithin, parseDn, sameDn } from '../../src/connectors/ldap/dn.ts';

/** Attribute types as directories spell them (any case). */
const attributeType = fc.constantFrom('cn', 'CN', 'Cn', 'ou', 'OU', 'dc', 'DC', 'uid', 'o', 'l');
/** Values with everything RFC 4514 makes special: separators, quotes, `#`, spaces at the edges, non-ASCII. */
const value = fc
  .array(
    fc.constantFrom('a', 'B', 'z', '0', ' ', ',', '+', ';', '=', '\\', '"', '<', '>', '#', 'É', '水', '-'),
    {
      minLength: 1,
      maxLength: 12,
    },
  )
  .map((chars) => chars.join(''))
  .filter((text) => text.trim() !== '');
const ava = fc.record({ type: attributeType, value });
const rdn = fc.array(ava, { minLength: 1, maxLength: 2 });
const dnParts = fc.array(rdn, { minLength: 1, maxLength: 5 });

const write = (rdns: Array<Array<{ type: string; value: string }>>) =>
  rdns.map((each) => each.map((part) => `${part.type}=${escapeDnValue(part.value)}`).join('+')).join(',');

/** A spelling of `text` with the letters' case flipped where `flips` says. */
const recase = (text: string, flips: boolean[]) =>
  [...text]
    .map((char, index) => (flips[index % flips.length] ? char.toUpperCase() : char.toLowerCase()))
    .join('');

describe('LDAP DNs (RFC 4514), property-based', () => {
  it('parses what it writes: escapes of separators, quotes, # and edge spaces are undone', () => {
    fc.assert(
      fc.property(dnParts, (rdns) => {
        const plain = rdns.map((each) => each.map(({ type, value }) => ({ type, value })));
        assert.deepEqual(parseDn(write(rdns)), plain);
      }),
    );
  });

  it('a DN is within every suffix of itself, at the RDN boundaries, whatever the case of types and values', () => {
    fc.assert(
      fc.property(dnParts, dnParts, fc.array(fc.boolean(), { minLength: 1 }), (child, base, flips) => {
        const baseText = write(base);
        const dn = `${write(child)},${recase(baseText, flips)}`;
        assert.ok(isDnWithin(dn, baseText));
        assert.ok(isDnWithin(baseText, recase(baseText, flips)), 'the base itself is within (scope sub)');
        assert.ok(sameDn(baseText, recase(baseText, flips)));
        assert.equal(isDnWithin(dn, baseText, 'one'), child.length === 1);
        assert.ok(!isDnWithin(baseText, dn), 'a parent is not within its child');
      }),
    );
  });

  it('a suffix of the text that does not end at an RDN boundary is not within', () => {
    fc.assert(
      fc.property(attributeType, value, dnParts, value, (type, prefix, base, sibling) => {
        const baseText = write(base);
        const [first, ...rest] = base;
        const firstAva = first![0]!;
        // Same text at the end, other entries: a longer value in the first RDN, and the whole base
        // escaped into one value (`cn=x\,ou=groups,dc=x` sits beside ou=groups, not under it).
        const longer = write([[{ type: firstAva.type, value: `${sibling}${firstAva.value}` }], ...rest]);
        if (!sameDn(longer, baseText)) assert.ok(!isDnWithin(`${type}=a,${longer}`, baseText));
        const escapedWhole = `${type}=${escapeDnValue(`${prefix},${baseText}`)}`;
        assert.ok(!isDnWithin(escapedWhole, baseText));
        assert.equal(parseDn(escapedWhole)?.length, 1);
      }),
    );
  });

  it('hex escapes and character escapes name the same entry', () => {
    fc.assert(
      fc.property(attributeType, value, (type, text) => {
        const hex = [...Buffer.from(text, 'utf8')]
          .map((byte) => `\\${byte.toString(16).padStart(2, '0')}`)
          .join('');
        assert.ok(sameDn(`${type}=${hex},dc=example`, `${type}=${escapeDnValue(text)},DC=EXAMPLE`));
        assert.deepEqual(firstRdn(`${type}=${hex},dc=example`), { attribute: type, value: text });
      }),
    );
  });

  it('examples: boundaries, escaped separators, multi-valued RDNs, spaces', () => {
    const groups = 'ou=groups,dc=example,dc=org';
    assert.ok(isDnWithin('CN=Admins,OU=Groups,DC=Example,DC=Org', groups));
    assert.ok(!isDnWithin('cn=admins,ou=partner-groups,dc=example,dc=org', groups));
    assert.ok(!isDnWithin('cn=admins,ou=xgroups,dc=example,dc=org', 'groups,dc=example,dc=org'));
    assert.ok(!isDnWithin('cn=admins\\,ou=groups,dc=example,dc=org', groups));
    assert.ok(!isDnWithin('cn=admins,ou=nested,ou=groups,dc=example,dc=org', groups, 'one'));
    assert.ok(isDnWithin('cn=admins, ou=groups , dc=example,dc=org', groups), 'spaces around separators');
    assert.ok(!isDnWithin('cn=admins,ou=grou ps,dc=example,dc=org', groups), 'a space inside a value counts');
    assert.ok(sameDn('cn=a+uid=b,dc=x', 'UID=B+CN=A,DC=X'), 'the AVAs of an RDN are a set');
    assert.equal(parseDn('not a dn'), undefined);
    assert.equal(isDnWithin('not a dn', groups), false);
    assert.equal(parseDn('cn=trailing\\'), undefined);
  });
});
