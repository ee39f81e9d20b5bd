import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client } from 'ldapts';
import type { PasswordLoginResult, UpstreamIdentity } from '../../src/connectors/connector.ts';
import { LdapConnector } from '../../src/connectors/ldap/ldap-connector.ts';
import { openLdap, openLdapEnv } from '../helpers/directories.ts';
import { startOpenLdapPeer } from '../peers/openldap.ts';
import { TcpProxy } from './tcp-proxy.ts';

const directory = openLdap();
const silent = { warn: () => {}, error: () => {} };
const GROUPS_DN = 'ou=groups,dc=example,dc=org';

const authenticated = (result: PasswordLoginResult): UpstreamIdentity => {
  assert.equal(result.outcome, 'authenticated', JSON.stringify(result));
  return (result as { identity: UpstreamIdentity }).identity;
};

const connectorWith = (extra: Record<string, unknown>, log = silent) =>
  new LdapConnector({ id: 'corp-ldap', name: 'LDAP', log, config: directory.connectorConfig(extra) });

describe('OpenLDAP: groups, TLS, failover, pool and failures', () => {
  const opened: LdapConnector[] = [];
  const make = (extra: Record<string, unknown>, log = silent) => {
    const connector = connectorWith(extra, log);
    opened.push(connector);
    return connector;
  };
  after(async () => {
    for (const connector of opened) await connector.close();
    await directory.close();
  });

  it('entryUUID is the stable id; the display name and claims come from attributes', async () => {
    const zoe = authenticated(await make({}).login('zoe', 'zoe-password'));
    assert.match(zoe.upstreamId, /^[0-9a-f-]{36}$/);
    assert.equal(zoe.name, 'Zoë Ångström');
    assert.deepEqual(zoe.claims, { employee_number: '1005' });
  });

  it('group modes: memberOf, search (member and memberUid), nested with a cycle guard', async () => {
    const groupsOf = async (groupSearch: Record<string, unknown>, username: string, password: string) =>
      authenticated(
        await make({ groupSearch: { baseDN: GROUPS_DN, ...groupSearch } }).login(username, password),
      ).groups;
    assert.deepEqual(await groupsOf({ mode: 'memberOf' }, 'alice', 'alice-password'), ['developers']);
    assert.deepEqual(await groupsOf({ mode: 'search' }, 'alice', 'alice-password'), ['developers']);
    assert.deepEqual(
      await groupsOf({ mode: 'search', memberAttribute: 'memberUid' }, 'alice', 'alice-password'),
      ['operators'],
    );
    assert.deepEqual(await groupsOf({ mode: 'nested' }, 'alice', 'alice-password'), [
      'all-staff',
      'developers',
      'engineering',
    ]);
    assert.deepEqual(await groupsOf({ mode: 'nested', maxDepth: 1 }, 'alice', 'alice-password'), [
      'developers',
      'engineering',
    ]);
    assert.deepEqual(
      await groupsOf({ mode: 'nested' }, 'zoe', 'zoe-password'),
      ['cycle-a', 'cycle-b', 'Équipe Nord'],
      'cycle-a ⊂ cycle-b ⊂ cycle-a ends',
    );
    assert.deepEqual(await groupsOf({ mode: 'nested' }, 'jsmith', 'jsmith-password'), [
      'all-staff',
      'developers',
      'engineering',
    ]);
    assert.deepEqual(await groupsOf({ mode: 'memberOf', nameAttribute: 'dn' }, 'bob', 'bob-password'), [
      `cn=admins,${GROUPS_DN}`,
    ]);
  });

  it('a locked account (ppolicy) cannot sign in, and refresh drops it', async () => {
    const connector = make({});
    assert.deepEqual(await connector.login('mallory', 'mallory-password'), {
      outcome: 'invalid-credentials',
    });
    const identity: UpstreamIdentity = {
      ...authenticated(await connector.login('alice', 'alice-password')),
    };
    const user = await directory.createUser();
    try {
      const fresh = authenticated(await connector.login(user.username, user.password));
      await directory.disable(user);
      assert.equal(await connector.refresh(fresh), undefined);
    } finally {
      await directory.deleteUser(user);
    }
    assert.equal((await connector.refresh(identity))?.username, 'alice');
  });

  it('refresh: moved out of the base DN gets nothing; idAttribute dn works too', async () => {
    const byDn = make({ userSearch: { baseDN: directory.usersDN, idAttribute: 'dn' } });
    const user = await directory.createUser();
    try {
      const identity = authenticated(await byDn.login(user.username, user.password));
      assert.equal(identity.upstreamId, user.dn);
      assert.equal((await byDn.refresh(identity))?.upstreamId, user.dn);
      const moved = await directory.moveOut(user);
      assert.equal(await byDn.refresh(identity), undefined);
      await directory.deleteUser(moved);
    } finally {
      await directory.deleteUser(user);
    }
  });

  it('refresh with idAttribute dn: an entry in another OU whose name differs by a space gets nothing', async () => {
    const env = openLdapEnv;
    const admin = new Client({ url: env('LDAPS_URL'), tlsOptions: { ca: readFileSync(env('CA_FILE')) } });
    await admin.bind(env('ADMIN_DN'), env('ADMIN_PASSWORD'));
    // "ou=peop le" is another OU than "ou=people"; a test that drops spaces and compares text says it is the same.
    const ou = `ou=peop le,${env('BASE_DN')}`;
    await admin.add(ou, { objectClass: 'organizationalUnit', ou: 'peop le' }).catch((error: Error) => {
      if (!/already exists/i.test(error.message)) throw error;
    });
    const name = `mallet-${randomBytes(3).toString('hex')}`;
    const outside = `uid=${name},${ou}`;
    await admin.add(outside, {
      objectClass: 'inetOrgPerson',
      uid: name,
      cn: name,
      sn: 'Outside',
      userPassword: 'mallet-password',
    });
    try {
      const byDn = make({ userSearch: { baseDN: directory.usersDN, idAttribute: 'dn' } });
      const identity: UpstreamIdentity = { upstreamId: outside, username: name, groups: [] };
      assert.equal(await byDn.refresh(identity), undefined, 'not within ou=people: no tokens');
    } finally {
      await admin.del(outside);
      await admin.del(ou).catch(() => {}); // another run may still use it
      await admin.unbind();
    }
  });

  it('ldaps:// and StartTLS both verify the certificate; insecureSkipVerify works, and says so loudly', async () => {
    authenticated(await make({ url: directory.ldapsUrl, startTLS: false }).login('alice', 'alice-password'));
    const { caFile: _, ...noCa } = directory.connectorConfig();
    const untrusted = new LdapConnector({ id: 'corp-ldap', name: 'x', log: silent, config: noCa });
    opened.push(untrusted);
    await assert.rejects(untrusted.login('alice', 'alice-password'), (error: Error) => {
      assert.equal(error.name, 'UpstreamError');
      assert.match(
        error.message,
        /^LDAP connector corp-ldap: ldap:\/\/127\.0\.0\.1:\d+: TLS failed: .*certificate/i,
      );
      return true;
    });
    const warnings: string[] = [];
    const skipping = new LdapConnector({
      id: 'corp-ldap',
      name: 'x',
      log: { warn: (_details, message) => warnings.push(message), error: () => {} },
      config: { ...noCa, insecureSkipVerify: true },
    });
    opened.push(skipping);
    authenticated(await skipping.login('alice', 'alice-password'));
    assert.match(warnings.join('\n'), /TLS CERTIFICATE VERIFICATION IS OFF/);
  });

  it('fails over to the next URL when the first does not answer', async () => {
    const dead = new TcpProxy(directory.url);
    await dead.up();
    await dead.down();
    const connector = make({ url: undefined, urls: [dead.url, directory.url] });
    authenticated(await connector.login('alice', 'alice-password'));
    const report = await connector.testConnection();
    assert.equal(report.url, directory.url);
  });

  it('reuses a small pool of service connections, and replaces a broken one', async () => {
    const proxy = new TcpProxy(directory.url);
    await proxy.up();
    try {
      const connector = make({ url: proxy.url, poolSize: 2 });
      await Promise.all(Array.from({ length: 6 }, () => connector.login('alice', 'alice-password')));
      for (let round = 0; round < 4; round++) authenticated(await connector.login('bob', 'bob-password'));
      assert.ok(proxy.accepted <= 2, `${proxy.accepted} connections for 10 logins`);
      proxy.dropConnections();
      authenticated(await connector.login('alice', 'alice-password'));
      assert.ok(proxy.accepted <= 4, `${proxy.accepted} connections`);
    } finally {
      await proxy.close();
    }
  });

  describe('a directory that is really stopped', () => {
    let peer: Awaited<ReturnType<typeof startOpenLdapPeer>>;
    before(async () => {
      peer = await startOpenLdapPeer();
    });
    after(() => peer?.stop());

    it('an upstream error naming the server, within the timeout; testConnection names the failed step', async () => {
      const connector = make({
        url: peer.env.LOCK_TEST_OPENLDAP_URL,
        caFile: peer.env.LOCK_TEST_OPENLDAP_CA_FILE,
      });
      authenticated(await connector.login('alice', 'alice-password'));
      await peer.stop();
      const started = performance.now();
      await assert.rejects(connector.login('alice', 'alice-password'), (error: Error) => {
        assert.equal(error.name, 'UpstreamError');
        assert.match(
          error.message,
          /^LDAP connector corp-ldap: ldap:\/\/127\.0\.0\.1:\d+: connect failed: connection refused/,
        );
        return true;
      });
      assert.ok(performance.now() - started < 3000);
      const report = await connector.testConnection();
      assert.deepEqual(
        report.steps.map((step) => [step.step, step.ok]),
        [['connect', false]],
      );
    });
  });
});
