import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Attribute, Change, Client } from 'ldapts';
import { requirePeerEnv } from '../peers/peer.ts';

/** A user a test adds to a directory (and removes afterwards), to change without disturbing others. */
export interface TestUser {
  dn: string;
  username: string;
  password: string;
}

/**
 * The two test directories (started by test/run.ts) seen from a test: how Lock's connector
 * reaches them, the fixture users, and the admin changes the refresh tests make.
 */
export interface TestDirectory {
  kind: 'openldap' | 'samba-ad';
  /** ldap:// (StartTLS) and ldaps:// URLs of the server. */
  url: string;
  ldapsUrl: string;
  caFile: string;
  usersDN: string;
  /** A connector config for this directory with nested groups; `extra` overrides top-level keys. */
  connectorConfig(extra?: Record<string, unknown>): Record<string, unknown>;
  /** A fixture user in developers ⊂ engineering ⊂ all-staff, and one in admins. */
  alice: { username: string; password: string };
  bob: { username: string; password: string };
  /** A fixture user whose name is a SASL mechanism ldapts would treat specially. */
  plain: { username: string; password: string };
  createUser(): Promise<TestUser>;
  deleteUser(user: TestUser): Promise<void>;
  addToGroup(user: TestUser, group: string): Promise<void>;
  /**
   * Makes `user` a member of a group named `group` in a new OU outside the groups OU (a partner's
   * tree, say); the returned function removes both.
   */
  addToGroupElsewhere(user: TestUser, group: string): Promise<() => Promise<void>>;
  disable(user: TestUser): Promise<void>;
  /** Moves the user out of the connector's user base DN. */
  moveOut(user: TestUser): Promise<TestUser>;
  close(): Promise<void>;
}

/** A setting of the OpenLDAP peer that test/run.ts started (LOCK_TEST_OPENLDAP_<name>). */
export const openLdapEnv = (name: string) =>
  requirePeerEnv(`LOCK_TEST_OPENLDAP_${name}`, 'the OpenLDAP peer');

/** A setting of the Samba AD peer that test/run.ts started (LOCK_TEST_AD_<name>). */
export const sambaAdEnv = (name: string) => requirePeerEnv(`LOCK_TEST_AD_${name}`, 'the Samba AD peer');

/**
 * An LDAP connector config for the OpenLDAP peer as an admin would type it into the console: the
 * service account over StartTLS, people (inetOrgPerson) and nested groups; `extra` overrides
 * top-level keys.
 */
export const openLdapConsoleConfig = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  url: openLdapEnv('URL'),
  startTLS: true,
  caFile: openLdapEnv('CA_FILE'),
  bindDN: openLdapEnv('BIND_DN'),
  bindPassword: openLdapEnv('BIND_PASSWORD'),
  userSearch: { baseDN: `ou=people,${openLdapEnv('BASE_DN')}`, filter: '(objectClass=inetOrgPerson)' },
  groupSearch: { mode: 'nested', baseDN: `ou=groups,${openLdapEnv('BASE_DN')}` },
  ...extra,
});

const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** An admin connection, opened on first use. */
function adminClient(url: string, caFile: string, dn: string, password: string) {
  let bound: Promise<Client> | undefined;
  const client = () => {
    bound ??= (async () => {
      const opened = new Client({
        url,
        timeout: 10_000,
        connectTimeout: 5000,
        tlsOptions: { ca: readFileSync(caFile) },
      });
      await opened.bind(dn, password);
      return opened;
    })();
    return bound;
  };
  return {
    add: async (...args: Parameters<Client['add']>) => (await client()).add(...args),
    del: async (entry: string) => (await client()).del(entry),
    modify: async (...args: Parameters<Client['modify']>) => (await client()).modify(...args),
    modifyDN: async (from: string, to: string) => (await client()).modifyDN(from, to),
    close: async () => {
      if (bound) await (await bound).unbind();
    },
  };
}

export function openLdap(): TestDirectory {
  const env = openLdapEnv;
  const base = env('BASE_DN');
  const usersDN = `ou=people,${base}`;
  const groupsDN = `ou=groups,${base}`;
  const caFile = env('CA_FILE');
  const admin = adminClient(env('LDAPS_URL'), caFile, env('ADMIN_DN'), env('ADMIN_PASSWORD'));
  return {
    kind: 'openldap',
    url: env('URL'),
    ldapsUrl: env('LDAPS_URL'),
    caFile,
    usersDN,
    connectorConfig: (extra = {}) =>
      openLdapConsoleConfig({
        connectTimeoutMs: 1000,
        timeoutMs: 1500,
        userSearch: {
          baseDN: usersDN,
          filter: '(objectClass=inetOrgPerson)',
          nameAttribute: 'displayName',
          claims: { employee_number: 'employeeNumber' },
        },
        ...extra,
      }),
    alice: { username: 'alice', password: 'alice-password' },
    bob: { username: 'bob', password: 'bob-password' },
    plain: { username: 'PLAIN', password: 'plain-password' },
    async createUser() {
      const username = uniqueName('conf');
      const user = { dn: `uid=${username},${usersDN}`, username, password: `${username}-Passw0rd!` };
      await admin.add(user.dn, {
        objectClass: 'inetOrgPerson',
        uid: username,
        cn: username,
        sn: 'Test',
        mail: `${username}@example.org`,
        userPassword: user.password,
      });
      return user;
    },
    deleteUser: (user) => admin.del(user.dn).catch(() => {}),
    addToGroup: (user, group) =>
      admin.modify(
        `cn=${group},${groupsDN}`,
        new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [user.dn] }) }),
      ),
    async addToGroupElsewhere(user, group) {
      const ou = `ou=${uniqueName('partner')},${base}`;
      await admin.add(ou, { objectClass: 'organizationalUnit', ou: ou.slice(3, ou.indexOf(',')) });
      await admin.add(`cn=${group},${ou}`, { objectClass: 'groupOfNames', cn: group, member: user.dn });
      return async () => {
        await admin.del(`cn=${group},${ou}`);
        await admin.del(ou);
      };
    },
    // ppolicy's administrative lock: binds fail, and the connector treats the account as disabled.
    disable: (user) =>
      admin.modify(
        user.dn,
        new Change({
          operation: 'add',
          modification: new Attribute({ type: 'pwdAccountLockedTime', values: ['000001010000Z'] }),
        }),
      ),
    async moveOut(user) {
      await admin.modifyDN(user.dn, `uid=${user.username},ou=services,${base}`);
      return { ...user, dn: `uid=${user.username},ou=services,${base}` };
    },
    close: () => admin.close(),
  };
}

export function sambaAd(): TestDirectory {
  const env = sambaAdEnv;
  const base = env('BASE_DN');
  const usersDN = `OU=People,${base}`;
  const caFile = env('CA_FILE');
  const admin = adminClient(env('LDAPS_URL'), caFile, env('ADMIN_DN'), env('ADMIN_PASSWORD'));
  return {
    kind: 'samba-ad',
    url: env('URL'),
    ldapsUrl: env('LDAPS_URL'),
    caFile,
    usersDN,
    connectorConfig: (extra = {}) => ({
      url: env('URL'),
      startTLS: true,
      caFile,
      activeDirectory: true,
      bindDN: env('BIND_DN'),
      bindPassword: env('BIND_PASSWORD'),
      connectTimeoutMs: 1000,
      timeoutMs: 1500,
      userSearch: { baseDN: usersDN, claims: { department: 'department' } },
      groupSearch: { baseDN: `OU=Groups,${base}` },
      ...extra,
    }),
    alice: { username: 'alice', password: 'Alice-Passw0rd!' },
    bob: { username: 'bob', password: 'Bob-Passw0rd!' },
    plain: { username: 'PLAIN', password: 'Plain-Passw0rd!' },
    async createUser() {
      const username = uniqueName('conf');
      const user = { dn: `CN=${username},${usersDN}`, username, password: `${username}-Passw0rd!` };
      await admin.add(user.dn, [
        new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
        new Attribute({ type: 'sAMAccountName', values: [username] }),
        new Attribute({ type: 'userPrincipalName', values: [`${username}@example.test`] }),
        new Attribute({ type: 'unicodePwd', values: [Buffer.from(`"${user.password}"`, 'utf16le')] }),
        new Attribute({ type: 'userAccountControl', values: ['512'] }),
      ]);
      return user;
    },
    deleteUser: (user) => admin.del(user.dn).catch(() => {}),
    addToGroup: (user, group) =>
      admin.modify(
        `CN=${group},OU=Groups,${base}`,
        new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [user.dn] }) }),
      ),
    async addToGroupElsewhere(user, group) {
      const name = uniqueName('partner');
      const ou = `OU=${name},${base}`;
      await admin.add(ou, { objectClass: ['top', 'organizationalUnit'], ou: name });
      // sAMAccountName is unique in the domain; the cn (the name Lock reads) need not be.
      await admin.add(`CN=${group},${ou}`, [
        new Attribute({ type: 'objectClass', values: ['top', 'group'] }),
        new Attribute({ type: 'sAMAccountName', values: [`${name}-${group}`.slice(0, 20)] }),
        new Attribute({ type: 'member', values: [user.dn] }),
      ]);
      return async () => {
        await admin.del(`CN=${group},${ou}`);
        await admin.del(ou);
      };
    },
    disable: (user) =>
      admin.modify(
        user.dn,
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'userAccountControl', values: ['514'] }),
        }),
      ),
    async moveOut(user) {
      const moved = `CN=${user.username},CN=Users,${base}`;
      await admin.modifyDN(user.dn, moved);
      return { ...user, dn: moved };
    },
    close: () => admin.close(),
  };
}
