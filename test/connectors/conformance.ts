import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PasswordConnector, PasswordLoginResult } from '../../src/connectors/connector.ts';
import type { TestDirectory, TestUser } from '../helpers/directories.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { LOCAL_USER, lockConfig, RelyingParty } from './lock-flow.ts';
import { TcpProxy } from './tcp-proxy.ts';
import { finishUpstreamSignIn, refreshAt, startUpstreamSignIn, upstreamLockConfig } from './upstream-flow.ts';

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

/**
 * What the suite needs of one redirect connector type (upstream OAuth 2.0 / OpenID Connect): an
 * upstream that signs in whom it is told to, with users in `all-staff` and `admins`, and users
 * the suite can add, change and cut off there.
 */
export interface RedirectConformanceTarget {
  name: string;
  type: string;
  connectorId: string;
  /** The connector's config, re-reading the user upstream every `refreshInterval` s. */
  connectorConfig(refreshInterval: number): Record<string, unknown>;
  /** The upstream learns Lock's redirect URI for the connector (`<issuer>/sso/<id>/callback`). */
  register(redirectUri: string): void;
  staffMember: string;
  admin: string;
  /** The browser at the upstream's authorization URL, signed in as `user`: where it is sent back to. */
  answer(upstreamUrl: URL, user: string): Promise<URL>;
  /** A user in no group, for one test. */
  createUser(): Promise<{ user: string; addToAdmins(): Promise<void>; cutOff(): Promise<void> }>;
  /** The upstream stops answering until the returned function is called. */
  outage(): Promise<() => Promise<void>>;
}

/** What applies of the suite to a connector that signs in by redirect: groups, sub, idp, refresh, outages. */
export function describeRedirectConformance(target: RedirectConformanceTarget): void {
  describe(`redirect connector conformance: ${target.name}`, () => {
    const REFRESH_INTERVAL = 60;
    let lock: RunningLock;
    let aheadMs = 0;

    before(async () => {
      lock = await startLock({
        now: () => new Date(Date.now() + aheadMs),
        config: upstreamLockConfig([
          { id: target.connectorId, type: target.type, config: target.connectorConfig(REFRESH_INTERVAL) },
        ]),
      });
      target.register(`${lock.issuer}/sso/${target.connectorId}/callback`);
    });
    after(async () => {
      await lock?.close();
      await lock?.database.drop();
    });

    const signIn = async (user: string) => {
      const started = await startUpstreamSignIn(lock, target.connectorId);
      return finishUpstreamSignIn(lock, started, await target.answer(started.upstreamUrl, user));
    };
    const later = () => {
      aheadMs += (REFRESH_INTERVAL + 1) * 1000;
      return aheadMs / 1000;
    };

    it('sign-in: tokens name the user, carry its groups, the roles they map to and idp = the connector', async () => {
      const staff = await signIn(target.staffMember);
      assert.ok(staff.tokens, `no tokens: ${staff.status} ${staff.page}`);
      assert.equal(staff.idToken?.preferred_username, target.staffMember);
      assert.ok(((staff.idToken?.groups ?? []) as string[]).includes('all-staff'));
      assert.deepEqual(staff.access?.roles, ['app_readonly']);
      assert.equal(staff.access?.idp, target.connectorId);

      const admin = await signIn(target.admin);
      assert.deepEqual(admin.access?.roles, ['app_admin']);
      assert.notEqual(admin.access?.sub, staff.access?.sub);

      const again = await signIn(target.staffMember);
      assert.equal(again.access?.sub, staff.access?.sub, 'the same user gets the same sub');
    });

    it('refresh re-reads the user upstream after the interval: a group change shows up, a cut-off user gets no tokens', async () => {
      const { user, addToAdmins, cutOff } = await target.createUser();
      const first = await signIn(user);
      assert.ok(first.tokens, `no tokens: ${first.status} ${first.page}`);
      assert.deepEqual(first.access?.roles, []);

      await addToAdmins();
      const soon = await refreshAt(lock, first.tokens.refresh_token!, aheadMs / 1000);
      assert.deepEqual(soon.access?.roles, [], 'within the interval the identity stands');
      const refreshed = await refreshAt(lock, soon.refreshToken!, later());
      assert.deepEqual(refreshed.access?.roles, ['app_admin'], JSON.stringify(refreshed));

      await cutOff();
      const withinInterval = await refreshAt(lock, refreshed.refreshToken!, aheadMs / 1000);
      assert.ok(withinInterval.access, 'not asked again within the interval');
      const refused = await refreshAt(lock, withinInterval.refreshToken!, later());
      assert.equal(refused.error, 'invalid_grant', JSON.stringify(refused));
    });

    it('upstream outage: the page says sign-in is unavailable within seconds; a refresh fails but the session survives', async () => {
      const before = await signIn(target.staffMember);
      assert.ok(before.tokens, `no tokens: ${before.status} ${before.page}`);
      const restore = await target.outage();
      try {
        const refresh = await refreshAt(lock, before.tokens.refresh_token!, later());
        assert.equal(refresh.access, undefined);
        assert.notEqual(refresh.error, 'invalid_grant', 'an outage does not end the session');
        const started = performance.now();
        const page = await signIn(target.staffMember);
        assert.equal(page.status, 503, page.page);
        assert.match(page.page, /is unavailable/);
        assert.ok(performance.now() - started < 6000);
      } finally {
        await restore();
      }
      const refreshed = await refreshAt(lock, before.tokens.refresh_token!, aheadMs / 1000);
      assert.deepEqual(refreshed.access?.roles, ['app_readonly'], JSON.stringify(refreshed));
    });
  });
}
