import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PasswordLoginResult, UpstreamIdentity } from '../../src/connectors/connector.ts';
import { LdapConnector } from '../../src/connectors/ldap/ldap-connector.ts';
import { localeOf } from '../../src/web/i18n.ts';
import { sambaAd } from '../helpers/directories.ts';
import { lockConfig, RelyingParty } from './lock-flow.ts';

const english = localeOf('en');

const directory = sambaAd();
const silent = { warn: () => {}, error: () => {} };
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const authenticated = (result: PasswordLoginResult): UpstreamIdentity => {
  assert.equal(result.outcome, 'authenticated', JSON.stringify(result));
  return (result as { identity: UpstreamIdentity }).identity;
};

describe('Active Directory (Samba): the AD preset', () => {
  let ad: LdapConnector;
  before(() => {
    ad = new LdapConnector({ id: 'corp-ad', name: 'AD', log: silent, config: directory.connectorConfig() });
  });
  after(async () => {
    await ad.close();
    await directory.close();
  });

  it('signs in by sAMAccountName and by userPrincipalName as one user, objectGUID as the stable id', async () => {
    const bySam = authenticated(await ad.login('alice', directory.alice.password));
    const byUpn = authenticated(await ad.login('alice@example.test', directory.alice.password));
    assert.match(bySam.upstreamId, GUID);
    assert.equal(byUpn.upstreamId, bySam.upstreamId);
    assert.equal(byUpn.username, 'alice', 'the directory’s sAMAccountName, whatever was typed');
    assert.equal(bySam.email, 'alice@example.test');
    assert.equal(bySam.name, 'Alice Anderson');
    assert.deepEqual(bySam.claims, { department: 'R&D' });
  });

  it('resolves nested groups two levels deep (developers ⊂ engineering ⊂ all-staff)', async () => {
    const alice = authenticated(await ad.login('alice', directory.alice.password));
    assert.deepEqual(alice.groups, ['all-staff', 'developers', 'engineering']);
    const dave = authenticated(await ad.login('dave', 'Dave-Passw0rd!'));
    assert.deepEqual(dave.groups, ['all-staff', 'engineering']);
  });

  it('refuses disabled, expired, must-change and locked accounts with a message their owner can act on', async () => {
    const cases: Array<[string, string, string, RegExp]> = [
      ['mallory', 'Mallory-Passw0rd!', 'disabled', /disabled/],
      ['trent', 'Trent-Passw0rd!', 'expired', /expired/],
      ['oscar', 'Oscar-Passw0rd!', 'password-change-required', /change your password/],
      ['lockie', 'Lockie-Passw0rd!', 'locked', /locked/],
    ];
    for (const [username, password, reason, message] of cases) {
      const result = await ad.login(username, password);
      assert.equal(result.outcome, 'refused', `${username}: ${JSON.stringify(result)}`);
      assert.equal(result.outcome === 'refused' && result.reason, reason);
      // The message is a key of the catalogue: what the page shows its owner, here in English.
      assert.match(result.outcome === 'refused' ? english.t(result.message) : '', message);
    }
  });

  it('says nothing about an account’s state to someone without its password', async () => {
    for (const username of ['mallory', 'trent', 'oscar'])
      assert.deepEqual(
        await ad.login(username, 'a wrong password'),
        { outcome: 'invalid-credentials' },
        username,
      );
  });

  it('non-ASCII names and DNs with an escaped comma', async () => {
    const zoe = authenticated(await ad.login('zoe', 'Zoe-Passw0rd!'));
    assert.equal(zoe.name, 'Zoë Ångström');
    assert.deepEqual(zoe.groups, ['Équipe Nord']);
    const jsmith = authenticated(await ad.login('jsmith', 'Jsmith-Passw0rd!'));
    assert.deepEqual(
      jsmith.groups,
      ['all-staff', 'developers', 'engineering'],
      'CN=Smith\\, John is a member',
    );
    const again = await ad.refresh(jsmith);
    assert.equal(again?.upstreamId, jsmith.upstreamId, 'found again by its objectGUID');
  });

  it('memberOf and search modes read direct groups', async () => {
    for (const mode of ['memberOf', 'search'] as const) {
      const connector = new LdapConnector({
        id: `ad-${mode}`,
        name: mode,
        log: silent,
        config: directory.connectorConfig({ groupSearch: { mode, baseDN: `OU=Groups,DC=example,DC=test` } }),
      });
      const alice = authenticated(await connector.login('alice', directory.alice.password));
      assert.deepEqual(alice.groups, ['developers'], mode);
      const zoe = authenticated(await connector.login('zoe', 'Zoe-Passw0rd!'));
      assert.deepEqual(zoe.groups, ['Équipe Nord'], mode);
      await connector.close();
    }
  });

  it('group names can be DNs', async () => {
    const connector = new LdapConnector({
      id: 'ad-dn',
      name: 'dn',
      log: silent,
      config: directory.connectorConfig({
        groupSearch: { nameAttribute: 'dn', baseDN: 'DC=example,DC=test' },
      }),
    });
    const alice = authenticated(await connector.login('alice', directory.alice.password));
    assert.ok(alice.groups.includes('CN=all-staff,OU=Groups,DC=example,DC=test'), alice.groups.join('; '));
    await connector.close();
  });

  it('refresh: a user moved out of the search base or deleted gets nothing', async () => {
    const user = await directory.createUser();
    try {
      const identity = authenticated(await ad.login(user.username, user.password));
      assert.equal((await ad.refresh(identity))?.username, user.username);
      const moved = await directory.moveOut(user);
      assert.equal(await ad.refresh(identity), undefined);
      await directory.deleteUser(moved);
      assert.equal(await ad.refresh(identity), undefined);
    } finally {
      await directory.deleteUser(user);
    }
  });

  it('testConnection reports each step, and the step that failed', async () => {
    const report = await ad.testConnection({ username: 'zoe' });
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.deepEqual(
      report.steps.map((step) => step.step),
      ['connect', 'tls', 'service bind', 'user search', 'groups'],
    );
    assert.match(report.steps[3]!.detail, /CN=Zoë Ångström,OU=People/);

    const wrongBind = new LdapConnector({
      id: 'corp-ad',
      name: 'AD',
      log: silent,
      config: directory.connectorConfig({ bindPassword: 'not-the-password' }),
    });
    const failed = await wrongBind.testConnection();
    assert.equal(failed.ok, false);
    const last = failed.steps.at(-1)!;
    assert.equal(last.step, 'service bind');
    assert.match(
      last.detail,
      /bind as CN=svc-oidc,OU=Service Accounts,DC=example,DC=test failed: invalid credentials \(49\)/,
    );
    assert.doesNotMatch(JSON.stringify(failed), /not-the-password/);
    await assert.rejects(wrongBind.login('alice', directory.alice.password), (error: Error) => {
      assert.equal(error.name, 'UpstreamError');
      assert.match(
        error.message,
        /^LDAP connector corp-ad: .*bind as CN=svc-oidc.* failed: invalid credentials \(49\)/,
      );
      assert.doesNotMatch(error.message, /not-the-password/);
      return true;
    });
    await wrongBind.close();
  });

  it('ldaps:// with the directory’s CA works; with no CA the TLS step fails', async () => {
    const ldaps = new LdapConnector({
      id: 'ad-ldaps',
      name: 'ldaps',
      log: silent,
      config: directory.connectorConfig({ url: directory.ldapsUrl, startTLS: false }),
    });
    authenticated(await ldaps.login('alice', directory.alice.password));
    await ldaps.close();
    const { caFile: _, ...withoutCa } = directory.connectorConfig({
      url: directory.ldapsUrl,
      startTLS: false,
    });
    const untrusted = new LdapConnector({ id: 'ad-untrusted', name: 'x', log: silent, config: withoutCa });
    const report = await untrusted.testConnection();
    assert.deepEqual(
      report.steps.map((step) => [step.step, step.ok]),
      [
        ['connect', true],
        ['tls', false],
      ],
    );
    assert.match(report.steps[1]!.detail, /TLS failed: .*certificate/i);
  });

  it('custom claims from attributes reach the ID token (with the profile scope)', async () => {
    const rp = await RelyingParty.start(
      lockConfig([{ id: 'corp-ad', type: 'ldap', config: directory.connectorConfig() }]),
    );
    try {
      const signedIn = await rp.signIn('alice@example.test', directory.alice.password);
      assert.equal(signedIn.idToken?.department, 'R&D');
      assert.equal(signedIn.idToken?.preferred_username, 'alice');
      assert.deepEqual(signedIn.access?.roles, ['app_readonly']);
    } finally {
      await rp.close();
    }
  });
});
