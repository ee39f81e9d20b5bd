import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PasswordConnector, PasswordLoginResult } from '../../src/connectors/connector.ts';
import type { TestDirectory, TestUser } from '../helpers/directories.ts';
import type { UserAgent } from '../helpers/user-agent.ts';
import { LOCAL_USER, lockConfig, RelyingParty } from './lock-flow.ts';
import { TcpProxy } from './tcp-proxy.ts';

/** A user the suite adds (and removes) to change groups and status without disturbing other tests. */
export interface ChangeableUser {
  username: string;
  password: string;
  addToAdmins(): Promise<void>;
  disable(): Promise<void>;
  remove(): Promise<void>;
}

/**
 * What the suite needs to know of one password connector: its `connectors[]` entry, a user in
 * `all-staff` (through nested groups where the backend nests) and one in `admins`, and a way to
 * add users. A directory (`directoryUrl`) is reached through a proxy the suite can take down.
 */
export interface ConformanceTarget {
  name: string;
  connectorId: string;
  /** The connector's config pointing at `url` (the proxy), or undefined for Lock's own accounts. */
  connectorConfig?: (url: string) => Record<string, unknown>;
  directoryUrl?: string;
  staffMember: { username: string; password: string };
  admin: { username: string; password: string };
  /** Users named like the SASL mechanisms ldapts would treat specially, where the backend has one. */
  saslNamedUser?: { username: string; password: string };
  createUser(rp: RelyingParty): Promise<ChangeableUser>;
  /** How the login page answers a disabled account with the right password. */
  disabledLoginMessage: RegExp;
}

const WRONG = /Incorrect username or password\./;
const UNAVAILABLE = /Sign-in is unavailable right now/;
const INJECTIONS = [
  '*',
  '*)(uid=*))(|(uid=*',
  'admin*',
  '*)(|(objectClass=*',
  'alice)(|(sAMAccountName=*',
  '\\2a',
];
const SASL_MECHANISMS = ['EXTERNAL', 'PLAIN', 'DIGEST-MD5', 'SCRAM-SHA-1'];

/** The suite against one of the test directories (OpenLDAP, Samba AD), closed after it. */
export function describeDirectoryConformance(
  directory: TestDirectory,
  target: Pick<ConformanceTarget, 'name' | 'connectorId' | 'disabledLoginMessage'>,
): void {
  after(() => directory.close());
  describeConnectorConformance({
    ...target,
    directoryUrl: directory.url,
    connectorConfig: (url) => directory.connectorConfig({ url }),
    staffMember: directory.alice,
    admin: directory.bob,
    saslNamedUser: directory.plain,
    async createUser() {
      const user = await directory.createUser();
      return {
        ...user,
        addToAdmins: () => directory.addToGroup(user, 'admins'),
        disable: () => directory.disable(user),
        remove: () => directory.deleteUser(user),
      };
    },
  });
  describeMemberOfScope(directory, target.name);
}

/**
 * `groupSearch.mode: memberOf` reads the user's memberOf, which names groups anywhere in the
 * directory: only those within the group base DN and matching the group filter may map to roles.
 */
function describeMemberOfScope(directory: TestDirectory, name: string): void {
  describe(`memberOf groups stay within groupSearch: ${name}`, () => {
    const groupsDN = (directory.connectorConfig().groupSearch as { baseDN: string }).baseDN;
    const connectorId = 'corp-memberof';
    const withGroups = (groupSearch: Record<string, unknown>) => [
      {
        id: connectorId,
        type: 'ldap',
        config: directory.connectorConfig({
          groupSearch: { mode: 'memberOf', baseDN: groupsDN, ...groupSearch },
        }),
      },
    ];
    let user: TestUser;
    let removeElsewhere: () => Promise<void>;
    before(async () => {
      user = await directory.createUser();
      await directory.addToGroup(user, 'developers');
      // A group named like the mapped `admins` (→ app_admin), in an OU outside the group base DN.
      removeElsewhere = await directory.addToGroupElsewhere(user, 'admins');
    });
    after(async () => {
      await removeElsewhere?.();
      await directory.deleteUser(user);
    });

    it('a group named like a mapped one outside the group base DN grants nothing', async () => {
      const rp = await RelyingParty.start(lockConfig(withGroups({})));
      try {
        const signedIn = await rp.signIn(user.username, user.password);
        assert.ok(signedIn.tokens, `no tokens: ${signedIn.status} ${signedIn.page}`);
        assert.deepEqual(signedIn.idToken?.groups, ['developers']);
        assert.deepEqual(signedIn.access?.roles, [], 'the other OU’s admins is not the mapped admins');
      } finally {
        await rp.close();
      }
    });

    it('the group filter holds for memberOf too', async () => {
      const rp = await RelyingParty.start(
        lockConfig(withGroups({ filter: '(&(objectClass=*)(!(cn=developers)))', scope: 'one' })),
      );
      try {
        const signedIn = await rp.signIn(user.username, user.password);
        assert.ok(signedIn.tokens, `no tokens: ${signedIn.status} ${signedIn.page}`);
        assert.deepEqual(signedIn.idToken?.groups ?? [], []);
      } finally {
        await rp.close();
      }
    });
  });
}

/** One suite, run against Lock's own accounts, OpenLDAP and Active Directory (Dex's conformance idea). */
export function describeConnectorConformance(target: ConformanceTarget): void {
  describe(`password connector conformance: ${target.name}`, () => {
    let rp: RelyingParty;
    let proxy: TcpProxy | undefined;
    const connector = () =>
      rp.lock.lock.runtime.state.connectors.get(target.connectorId) as PasswordConnector;
    const login = (username: string, password: string): Promise<PasswordLoginResult> =>
      connector().login(username, password);

    before(async () => {
      if (target.directoryUrl && target.connectorConfig) {
        proxy = new TcpProxy(target.directoryUrl);
        await proxy.up();
      }
      const connectors =
        proxy && target.connectorConfig
          ? [{ id: target.connectorId, type: 'ldap', config: target.connectorConfig(proxy.url) }]
          : [];
      rp = await RelyingParty.start(lockConfig(connectors));
    });
    after(async () => {
      await rp?.close();
      await proxy?.close();
    });

    it('right password: tokens name the user, carry its groups and the roles they map to', async () => {
      const staff = await rp.signIn(target.staffMember.username, target.staffMember.password);
      assert.ok(staff.tokens, `no tokens: ${staff.status} ${staff.page}`);
      assert.equal(staff.idToken?.preferred_username, target.staffMember.username);
      const groups = (staff.idToken?.groups ?? []) as string[];
      assert.ok(groups.includes('all-staff'), `groups: ${groups}`);
      assert.deepEqual(staff.access?.roles, ['app_readonly']);
      assert.equal(staff.access?.idp, target.connectorId);

      const admin = await rp.signIn(target.admin.username, target.admin.password);
      assert.deepEqual(admin.access?.roles, ['app_admin']);
      assert.notEqual(admin.access?.sub, staff.access?.sub);

      const again = await rp.signIn(target.staffMember.username, target.staffMember.password);
      assert.equal(again.access?.sub, staff.access?.sub, 'the same user gets the same sub');
    });

    it('wrong password: the page says so and no tokens are issued', async () => {
      const result = await rp.signIn(target.staffMember.username, 'not the password');
      assert.equal(result.tokens, undefined);
      assert.equal(result.status, 401);
      assert.match(result.page, WRONG);
      assert.deepEqual(await login(target.staffMember.username, 'not the password'), {
        outcome: 'invalid-credentials',
      });
    });

    it('unknown user: the same message as a wrong password', async () => {
      const result = await rp.signIn('nobody-by-this-name', 'whatever password');
      assert.equal(result.status, 401);
      assert.match(result.page, WRONG);
      assert.deepEqual(await login('nobody-by-this-name', 'whatever password'), { outcome: 'unknown-user' });
    });

    it('empty password: refused before the upstream is asked (no unauthenticated bind)', async () => {
      const page = await rp.signIn(target.staffMember.username, '');
      assert.equal(page.status, 400);
      assert.match(page.page, /Enter your password\./);
      const connectionsBefore = proxy?.accepted ?? 0;
      const result = await login(target.staffMember.username, '');
      assert.notEqual(result.outcome, 'authenticated');
      assert.equal(result.outcome, 'invalid-credentials');
      assert.equal(proxy?.accepted ?? 0, connectionsBefore, 'no connection was made for it');
    });

    it('filter injection in the username matches nobody, even with a real password', async () => {
      for (const username of INJECTIONS) {
        const result = await login(username, target.staffMember.password);
        assert.equal(result.outcome, 'unknown-user', `${username}: ${JSON.stringify(result)}`);
      }
      const page = await rp.signIn('*', target.staffMember.password);
      assert.equal(page.tokens, undefined);
      assert.match(page.page, WRONG);
    });

    it('SASL mechanism names are ordinary usernames', async () => {
      for (const username of SASL_MECHANISMS) {
        const known = target.saslNamedUser?.username === username;
        const result = await login(username, known ? target.saslNamedUser!.password : 'some password');
        if (known) {
          assert.equal(result.outcome, 'authenticated', `${username}: ${JSON.stringify(result)}`);
          assert.equal(result.outcome === 'authenticated' && result.identity.username, username);
        } else assert.equal(result.outcome, 'unknown-user', `${username}: ${JSON.stringify(result)}`);
      }
    });

    it('refresh re-checks the user: a group change shows up, a disabled user gets no tokens', async () => {
      const user = await target.createUser(rp);
      try {
        const first = await rp.signIn(user.username, user.password);
        assert.ok(first.tokens, `no tokens: ${first.status} ${first.page}`);
        assert.deepEqual(first.access?.roles, []);

        await user.addToAdmins();
        const refreshed = await rp.refresh(first.tokens.refresh_token!);
        assert.deepEqual(refreshed.access?.roles, ['app_admin'], JSON.stringify(refreshed));

        await user.disable();
        const refused = await rp.refresh(refreshed.refreshToken!);
        assert.equal(refused.error, 'invalid_grant');
        const page = await rp.signIn(user.username, user.password);
        assert.equal(page.tokens, undefined);
        assert.match(page.page, target.disabledLoginMessage);
      } finally {
        await user.remove();
      }
    });

    it('refresh after the user was deleted: no tokens', async () => {
      const user = await target.createUser(rp);
      const first = await rp.signIn(user.username, user.password);
      assert.ok(first.tokens, `no tokens: ${first.status} ${first.page}`);
      await user.remove();
      assert.equal((await rp.refresh(first.tokens.refresh_token!)).error, 'invalid_grant');
    });

    if (target.directoryUrl) {
      it('directory stopped: the page says sign-in is unavailable, quickly; local accounts still work', async () => {
        const before = await rp.signIn(target.staffMember.username, target.staffMember.password);
        assert.ok(before.tokens);
        await proxy!.down();
        try {
          const refresh = await rp.refresh(before.tokens.refresh_token!);
          assert.equal(refresh.access, undefined);
          assert.notEqual(refresh.error, 'invalid_grant', 'an outage does not end the session');
          const started = performance.now();
          const page = await rp.signIn(target.staffMember.username, target.staffMember.password);
          const elapsed = performance.now() - started;
          assert.equal(page.status, 503);
          assert.match(page.page, UNAVAILABLE);
          assert.ok(elapsed < 5000, `answered after ${Math.round(elapsed)} ms`);
          const local = await rp.signIn(LOCAL_USER.username, LOCAL_USER.password);
          assert.deepEqual(local.access?.roles, ['app_readonly'], 'the local account signs in meanwhile');
        } finally {
          await proxy!.up();
        }
        const back = await rp.signIn(target.staffMember.username, target.staffMember.password);
        assert.ok(back.tokens, `after the directory came back: ${back.status} ${back.page}`);
        const refreshed = await rp.refresh(before.tokens.refresh_token!);
        assert.deepEqual(refreshed.access?.roles, ['app_readonly'], 'the refresh token still works');
      });

      it('directory hangs: the connector gives up after its timeout, the request does not hang', async () => {
        proxy!.blackhole();
        try {
          const started = performance.now();
          const page = await rp.signIn(target.staffMember.username, target.staffMember.password);
          const elapsed = performance.now() - started;
          assert.equal(page.status, 503);
          assert.match(page.page, UNAVAILABLE);
          // connectTimeoutMs 1000 + timeoutMs 1500: the operation timeout is what ended it.
          assert.ok(elapsed >= 1400 && elapsed < 6000, `answered after ${Math.round(elapsed)} ms`);
          const local = await rp.signIn(LOCAL_USER.username, LOCAL_USER.password);
          assert.ok(local.tokens, 'the local account signs in meanwhile');
        } finally {
          await proxy!.down();
          await proxy!.up();
        }
        assert.ok((await rp.signIn(target.admin.username, target.admin.password)).tokens);
      });
    }
  });
}

/** A person at a redirect connector's upstream whom the suite may change. */
export interface ChangeableUpstreamPerson {
  username: string;
  password: string;
  addToAdmins(): Promise<void>;
  /** Disabled, or their grants revoked: the upstream refuses them from now on. */
  disable(): Promise<void>;
}

/**
 * What the suite needs of one redirect connector (upstream OpenID Connect, OAuth 2.0): its
 * `connectors[]` entry (re-reading the upstream at every refresh), a person in `all-staff` and one
 * in `admins`, a way to add people, and the browser's way through the upstream's sign-in.
 */
export interface RedirectConformanceTarget {
  name: string;
  connectorId: string;
  type: string;
  connectorConfig(): Promise<Record<string, unknown>>;
  staffMember: { username: string; password: string };
  admin: { username: string; password: string };
  createPerson(): Promise<ChangeableUpstreamPerson>;
  signInUpstream(
    agent: UserAgent,
    authorizationUrl: string,
    person: { username: string; password: string },
  ): Promise<{ landed?: string; status: number; html: string }>;
  /**
   * Where the suite can take the upstream's back channel (token, userinfo) away: it stops
   * answering until the returned function is called. The connector's timeoutSeconds must be 1.
   */
  outage?(): Promise<() => Promise<void>>;
}

/** What applies of the connector suite to a sign-in by redirect: identity, groups and roles, refresh. */
export function describeRedirectConnectorConformance(target: RedirectConformanceTarget): void {
  describe(`redirect connector conformance: ${target.name}`, () => {
    let rp: RelyingParty;
    const signIn = (person: { username: string; password: string }) =>
      rp.signInThrough(target.connectorId, (agent, url) => target.signInUpstream(agent, url, person));

    before(async () => {
      rp = await RelyingParty.start(
        lockConfig([{ id: target.connectorId, type: target.type, config: await target.connectorConfig() }]),
      );
    });
    after(() => rp?.close());

    it('tokens name the person, carry their groups and the roles they map to, idp = the connector', async () => {
      const staff = await signIn(target.staffMember);
      assert.ok(staff.tokens, `no tokens: ${staff.status} ${staff.page}`);
      assert.equal(staff.idToken?.preferred_username, target.staffMember.username);
      const groups = (staff.idToken?.groups ?? []) as string[];
      assert.ok(groups.includes('all-staff'), `groups: ${groups}`);
      assert.deepEqual(staff.access?.roles, ['app_readonly']);
      assert.equal(staff.access?.idp, target.connectorId);

      const admin = await signIn(target.admin);
      assert.deepEqual(admin.access?.roles, ['app_admin']);
      assert.notEqual(admin.access?.sub, staff.access?.sub);

      const again = await signIn(target.staffMember);
      assert.equal(again.access?.sub, staff.access?.sub, 'the same person gets the same sub');
    });

    it('refresh re-checks the person: a group change shows up, a refusal upstream ends it', async () => {
      const person = await target.createPerson();
      const first = await signIn(person);
      assert.ok(first.tokens, `no tokens: ${first.status} ${first.page}`);
      assert.deepEqual(first.access?.roles, []);

      await person.addToAdmins();
      const refreshed = await rp.refresh(first.tokens.refresh_token!);
      assert.deepEqual(refreshed.access?.roles, ['app_admin'], JSON.stringify(refreshed));

      await person.disable();
      const refused = await rp.refresh(refreshed.refreshToken!);
      assert.equal(refused.error, 'invalid_grant');
    });

    if (target.outage) {
      const outage = target.outage.bind(target);
      it('upstream not answering: the page says sign-in is unavailable within seconds; refresh fails but the session survives', async () => {
        const before = await signIn(target.staffMember);
        assert.ok(before.tokens, `no tokens: ${before.status} ${before.page}`);
        const restore = await outage();
        try {
          const refresh = await rp.refresh(before.tokens.refresh_token!);
          assert.equal(refresh.access, undefined);
          assert.notEqual(refresh.error, 'invalid_grant', 'an outage does not end the session');
          const started = performance.now();
          const page = await signIn(target.staffMember);
          const elapsed = performance.now() - started;
          assert.equal(page.status, 503, page.page);
          assert.match(page.page, /Sign-in with .+ is unavailable/);
          assert.ok(elapsed < 5000, `answered after ${Math.round(elapsed)} ms`);
        } finally {
          await restore();
        }
        const refreshed = await rp.refresh(before.tokens.refresh_token!);
        assert.deepEqual(refreshed.access?.roles, ['app_readonly'], JSON.stringify(refreshed));
      });
    }
  });
}
