import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entry } from 'ldapts';
import { describeIssues } from '../../src/config/schema-errors.ts';
import { connectorSchema } from '../../src/connectors/config-schemas.ts';
import { accountRestrictionOf, restrictionFromBindError } from '../../src/connectors/ldap/account-status.ts';
import { ldapConfigSchema, resolveLdapSettings } from '../../src/connectors/ldap/config.ts';
import { firstRdn } from '../../src/connectors/ldap/dn.ts';
import { DirectoryEntry } from '../../src/connectors/ldap/entry.ts';
import { allOf, anyOf, equals, parseFilter } from '../../src/connectors/ldap/filters.ts';
import { formatObjectGuid, parseObjectGuid } from '../../src/connectors/ldap/object-guid.ts';
import { startLock } from '../helpers/lock.ts';

const minimal = {
  url: 'ldaps://dc.example.com',
  bindDN: 'CN=svc,OU=Service Accounts,DC=example,DC=com',
  bindPassword: 'service password',
  userSearch: { baseDN: 'OU=People,DC=example,DC=com' },
};

/** The problems the declarative file reports for an ldap connector with this config. */
function problems(config: Record<string, unknown>): string[] {
  const parsed = connectorSchema.safeParse({ id: 'corp-ad', type: 'ldap', name: 'AD', config });
  return parsed.success ? [] : describeIssues(parsed.error.issues, ['connectors', 0]);
}

describe('LDAP connector configuration', () => {
  it('the Active Directory preset fills in AD defaults', () => {
    const settings = resolveLdapSettings({ ...minimal, activeDirectory: true });
    assert.deepEqual(settings.urls, ['ldaps://dc.example.com']);
    assert.deepEqual(settings.userSearch.usernameAttributes, ['sAMAccountName', 'userPrincipalName']);
    assert.equal(settings.userSearch.idAttribute, 'objectGUID');
    assert.equal(settings.userSearch.preferredUsernameAttribute, 'sAMAccountName');
    assert.equal(settings.groupSearch?.mode, 'adInChain');
    assert.equal(settings.groupSearch?.baseDN, 'OU=People,DC=example,DC=com');
    assert.equal(settings.connectTimeoutMs, 5000, 'timeouts are never left unset');
    assert.equal(settings.timeoutMs, 5000);
    assert.equal(settings.poolSize, 4);
  });

  it('a generic directory: uid, entryUUID, no groups unless asked for', () => {
    const settings = resolveLdapSettings(minimal);
    assert.deepEqual(settings.userSearch.usernameAttributes, ['uid']);
    assert.equal(settings.userSearch.idAttribute, 'entryUUID');
    assert.equal(settings.groupSearch, undefined);
  });

  it('refuses configurations that would be unsafe or cannot work, naming the field', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { ...minimal, url: 'ldap://dc.example.com' },
        /config\.startTLS: ldap:\/\/ sends passwords in clear text/,
      ],
      [{ ...minimal, startTLS: true }, /config\.startTLS: startTLS upgrades ldap:\/\//],
      [{ ...minimal, urls: ['ldaps://a'] }, /config\.urls: give url .* or urls/],
      [
        { ...minimal, caFile: '/ca.pem', caCert: '-----BEGIN CERTIFICATE-----' },
        /config\.caFile: give caCert or caFile/,
      ],
      [{ ...minimal, caCert: 'not pem' }, /config\.caCert: must be PEM/],
      [{ ...minimal, timeoutMs: 0 }, /config\.timeoutMs/],
      [{ ...minimal, bindPassword: '' }, /config\.bindPassword: is required/],
      [
        { ...minimal, userSearch: { ...minimal.userSearch, filter: '(uid=x' } },
        /config\.userSearch\.filter: must be an LDAP filter/,
      ],
      [
        { ...minimal, userSearch: { ...minimal.userSearch, claims: { roles: 'memberOf' } } },
        /is a claim Lock sets itself/,
      ],
      [
        { ...minimal, userSearch: { ...minimal.userSearch, claims: { hash: 'userPassword' } } },
        /holds password material/,
      ],
      [
        { ...minimal, groupSearch: { mode: 'nested', memberAttribute: 'memberUid' } },
        /nested groups need a DN-valued/,
      ],
      [{ ...minimal, groupSearch: { baseDN: 'ou=groups' } }, /config\.groupSearch\.mode: is required/],
      [{ ...minimal, followReferrals: true }, /unknown key "followReferrals"/],
    ];
    for (const [config, expected] of cases)
      assert.match(problems(config).join('\n'), expected, JSON.stringify(config));
    assert.deepEqual(problems({ ...minimal, activeDirectory: true }), []);
    assert.equal(ldapConfigSchema.safeParse(minimal).success, true);
  });

  it('bindPassword is sealed at rest in the connectors table', async () => {
    const lock = await startLock({
      config: `connectors:\n  - id: corp-ad\n    type: ldap\n    name: AD\n    config: ${JSON.stringify(minimal)}\n`,
    });
    try {
      const { rows } = await lock.database.pool.query(
        "SELECT config::text AS config FROM connectors WHERE id = 'corp-ad'",
      );
      assert.doesNotMatch(rows[0].config, /service password/);
      assert.match(rows[0].config, /"bindPassword": \{"\$sealed"/);
    } finally {
      await lock.close();
      await lock.database.drop();
    }
  });
});

describe('LDAP building blocks', () => {
  it('values from outside never become filter syntax (RFC 4515)', () => {
    const filter = allOf(
      parseFilter('(objectClass=person)'),
      anyOf([equals('uid', '*)(uid=*))(|(uid=*'), equals('mail', 'admin*\\')]),
    );
    assert.equal(
      filter.toString(),
      '(&(objectClass=person)(|(uid=\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a)(mail=admin\\2a\\5c)))',
    );
  });

  it('objectGUID: the text form Windows and Samba show, and back', () => {
    const bytes = Buffer.from('368fec72bbe7ad4da260ee1527291a7e', 'hex');
    assert.equal(formatObjectGuid(bytes), '72ec8f36-e7bb-4dad-a260-ee1527291a7e');
    assert.deepEqual(parseObjectGuid('72ec8f36-e7bb-4dad-a260-ee1527291a7e'), bytes);
    assert.equal(parseObjectGuid('not-a-guid'), undefined);
  });

  it('the first RDN of a DN, escapes undone', () => {
    assert.deepEqual(firstRdn('CN=Smith\\, John,OU=People,DC=example,DC=test'), {
      attribute: 'CN',
      value: 'Smith, John',
    });
    assert.deepEqual(firstRdn('cn=Smith\\2C John,ou=people'), { attribute: 'cn', value: 'Smith, John' });
    assert.deepEqual(firstRdn('CN=\\C3\\89quipe Nord,OU=Groups'), { attribute: 'CN', value: 'Équipe Nord' });
    assert.deepEqual(firstRdn('cn=a+sn=b,dc=x'), { attribute: 'cn', value: 'a' });
  });

  it('Active Directory account state from attributes and from bind errors', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const entry = (attributes: Record<string, string>) =>
      new DirectoryEntry({ dn: 'CN=x', ...attributes } as Entry);
    const reason = (attributes: Record<string, string>) =>
      accountRestrictionOf(entry(attributes), true, now)?.reason;
    assert.equal(reason({ userAccountControl: '512', accountExpires: '9223372036854775807' }), undefined);
    assert.equal(reason({ userAccountControl: '514' }), 'disabled');
    assert.equal(reason({ userAccountControl: '512', accountExpires: '133000000000000000' }), 'expired'); // 2022
    assert.equal(reason({ userAccountControl: '512', accountExpires: '140000000000000000' }), undefined); // 2044
    assert.equal(reason({ userAccountControl: '512', 'msDS-User-Account-Control-Computed': '16' }), 'locked');
    assert.equal(reason({ userAccountControl: '512', pwdLastSet: '0' }), 'password-change-required');
    assert.equal(
      accountRestrictionOf(entry({ pwdAccountLockedTime: '000001010000Z' }), false, now)?.reason,
      'disabled',
    );

    const bindError = (code: string) =>
      restrictionFromBindError(
        `80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data ${code}, v1db1`,
      );
    assert.equal(bindError('52e'), undefined, 'a wrong password is just that');
    assert.equal(bindError('533')?.reason, 'disabled');
    assert.equal(bindError('701')?.reason, 'expired');
    assert.equal(bindError('773')?.reason, 'password-change-required');
    assert.equal(bindError('775')?.reason, 'locked');
    assert.equal(bindError('532')?.reason, 'password-expired');
  });
});
