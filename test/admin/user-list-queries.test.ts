import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import type { AdminActor } from '../../src/admin/admin-actor.ts';
import { CLI_ACTOR } from '../../src/admin/admin-actor.ts';
import type { AdminApiDeps } from '../../src/admin/api/route.ts';
import { userRoutes } from '../../src/admin/api/users.ts';
import { soleAdminAccountExists, userListItems } from '../../src/admin/user-state.ts';
import { LISTINGS } from '../../src/cli/listings.ts';
import type { Session } from '../../src/cli/session.ts';
import { ADMIN_ROLE } from '../../src/model/admin-role.ts';
import { BruteForceGuard, DEFAULT_BRUTE_FORCE_POLICY } from '../../src/security/brute-force.ts';
import { subsOfUpstream } from '../../src/store/identities.ts';
import { countPasskeys, insertPasskey } from '../../src/store/passkeys.ts';
import { createPool } from '../../src/store/pool.ts';
import {
  countUnusedRecoveryCodes,
  findTotpCredential,
  insertTotpCredential,
  replaceRecoveryCodes,
  useRecoveryCode,
} from '../../src/store/totp.ts';
import {
  createUser,
  findUserByUsername,
  LOCAL_CONNECTOR_ID,
  listUsers,
  setUserGroups,
  setUserRoles,
  type User,
  userDirectRoles,
  userGroupsAndRoles,
} from '../../src/store/users.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { loginConfig } from '../helpers/login-fixtures.ts';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken } from './admin-api.ts';

/**
 * The admin user list (API and `lock users list`) reads a page in a fixed number of statements, one
 * per concern, whatever the page's size, and shows exactly what reading each user alone shows.
 */

/** A pool that records every statement any of its connections runs (pool.query goes through them too). */
function countingPool(url: string): { pool: pg.Pool; statements: string[] } {
  const pool = createPool({ url, max: 2 });
  const statements: string[] = [];
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((config: unknown, ...rest: unknown[]) => {
      statements.push(typeof config === 'string' ? config : (config as { text: string }).text);
      return query(config, ...rest);
    }) as typeof client.query;
  });
  return { pool, statements };
}

/** A lockout policy that locks at the first attempt past one, so the test need not make thirty. */
const QUICK_LOCK = { ...DEFAULT_BRUTE_FORCE_POLICY, accountThreshold: 1 };
const hashes = (count: number) => Array.from({ length: count }, () => randomBytes(32).toString('hex'));

async function addPasskeys(db: pg.Pool, userId: string, count: number) {
  for (let index = 0; index < count; index++)
    await insertPasskey(db, {
      userId,
      credentialId: randomBytes(16).toString('base64url'),
      publicKey: randomBytes(32),
      signCount: 0,
      transports: ['internal'],
      aaguid: '00000000-0000-0000-0000-000000000000',
      backupEligible: false,
      backedUp: false,
      name: `key ${index}`,
    });
}

async function addTotp(db: pg.Pool, userId: string, recoveryCodes: number, used: number) {
  await insertTotpCredential(db, {
    userId,
    secretSealed: 'sealed',
    lastUsedStep: 0,
    confirmedAt: new Date(),
  });
  const codes = hashes(recoveryCodes);
  await replaceRecoveryCodes(db, userId, codes);
  for (const code of codes.slice(0, used)) await useRecoveryCode(db, userId, code, new Date());
}

async function lockOutByName(db: pg.Pool, username: string, now = () => new Date()) {
  const guard = new BruteForceGuard(db, QUICK_LOCK, now);
  for (let attempt = 0; attempt < 3; attempt++) await guard.reserve({ username, address: '192.0.2.7' });
}

/**
 * The list item as the list built it before it was batched: every concern read for this user
 * alone, with the per-user store functions. The oracle the batched items are compared with.
 */
async function itemReadAlone(db: pg.Pool, user: User, by: AdminActor, soleAdmin: boolean) {
  const { groups, roles } = await userGroupsAndRoles(db, user.id);
  const view = { ...user, groups, roles: await userDirectRoles(db, user.id), effectiveRoles: roles };
  const until = await new BruteForceGuard(db).lockedUntil(user.username);
  const totp = await findTotpCredential(db, user.id);
  return {
    ...view,
    connector: LOCAL_CONNECTOR_ID,
    lockedUntil: until ? until.toISOString() : null,
    secondFactor: {
      totp: totp !== undefined,
      recoveryCodesLeft: totp ? await countUnusedRecoveryCodes(db, user.id) : 0,
      passkeys: await countPasskeys(db, user.id),
    },
    you:
      by.actor !== CLI_ACTOR.actor &&
      (await subsOfUpstream(db, LOCAL_CONNECTOR_ID, user.id)).includes(by.actor),
    lastAdmin: soleAdmin && !view.disabled && view.hasPassword && view.effectiveRoles.includes(ADMIN_ROLE),
  };
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('admin user list: a fixed number of statements per page, the same items as read user by user', () => {
  let lock: RunningLock;
  let api: AdminApi;
  let db: pg.Pool;
  let counted: { pool: pg.Pool; statements: string[] };
  let admin: AdminActor;

  before(async () => {
    lock = await startLock({ config: loginConfig, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    db = lock.database.pool;
    counted = countingPool(lock.database.url);
    const adminUser = (await findUserByUsername(db, 'admin'))!;
    const [sub] = await subsOfUpstream(db, LOCAL_CONNECTOR_ID, adminUser.id);
    assert.ok(sub, 'the console sign-in recorded the admin identity');
    admin = { actor: sub };

    // Fifty-five accounts that each have every kind of state, so that a per-user read would run
    // every one of its statements for each of them.
    for (let index = 0; index < 55; index++) {
      const user = await createUser(db, { username: `member-${String(index).padStart(2, '0')}` });
      await setUserGroups(db, user.id, ['editors']);
      await setUserRoles(db, user.id, ['app_readonly']);
      await addTotp(db, user.id, 4, index % 4);
      await addPasskeys(db, user.id, 1 + (index % 2));
      if (index % 5 === 0) await lockOutByName(db, user.username);
    }

    // The mix the equivalence test looks at (alice, bob and carol come from the fixture's file).
    // alice: editors (mapped role) + a direct role, locked out by her name typed in capitals.
    await lockOutByName(db, 'ALICE');
    const bob = (await findUserByUsername(db, 'bob'))!;
    await addTotp(db, bob.id, 10, 3);
    const carol = (await findUserByUsername(db, 'carol'))!; // disabled
    await addPasskeys(db, carol.id, 2);
    const dave = await createUser(db, { username: 'dave' });
    await replaceRecoveryCodes(db, dave.id, hashes(5)); // codes left without an authenticator: none count
    const erin = await createUser(db, { username: 'erin' });
    // Locked through the account's own counter only (a sign-in by another of its names).
    const accountGuard = new BruteForceGuard(db, QUICK_LOCK);
    for (let attempt = 0; attempt < 3; attempt++)
      await accountGuard.reserveAccount({
        connector: LOCAL_CONNECTOR_ID,
        upstreamId: erin.id,
        username: 'erin',
      });
    const frank = await createUser(db, { username: 'frank' });
    await lockOutByName(db, frank.username, () => new Date(Date.now() - 2 * 3600_000)); // a lock long over
  });
  after(async () => {
    await counted.pool.end();
    await lock.close();
    await lock.database.drop();
  });

  const listRoute = userRoutes.find((route) => route.operationId === 'listUsers')!;
  /** One page as GET /admin/api/v1/users answers it, with the statements it cost. */
  async function page(limit: number) {
    const before = counted.statements.length;
    const reply = await listRoute.handle({
      deps: { pool: counted.pool } as AdminApiDeps,
      params: {},
      query: { limit },
      body: undefined,
      ifMatch: undefined,
      by: admin,
    });
    const items = (reply.body as { items: { username: string }[] }).items;
    return { items, statements: counted.statements.slice(before) };
  }

  it('a page of 50 users costs the statements a page of 5 does, at most 10', async (t) => {
    const five = await page(5);
    const fifty = await page(50);
    t.diagnostic(`5 users: ${five.statements.length} statements, 50 users: ${fifty.statements.length}`);
    assert.equal(five.items.length, 5);
    assert.equal(fifty.items.length, 50);
    assert.ok(fifty.statements.length <= 10, `a page of 50 ran ${fifty.statements.length} statements`);
    assert.equal(
      fifty.statements.length,
      five.statements.length,
      `5 users: ${five.statements.length} statements, 50 users: ${fifty.statements.length}`,
    );
  });

  it('`lock users list` reads every account (60 and more) in at most 10 statements', async () => {
    const before = counted.statements.length;
    const { items } = await LISTINGS.users!.read(
      { database: { pool: counted.pool } } as unknown as Session,
      {},
    );
    const statements = counted.statements.length - before;
    assert.ok(items.length >= 60, `${items.length} accounts`);
    assert.ok(statements <= 10, `the listing ran ${statements} statements`);
  });

  it('the batched items equal the items read user by user, for the caller, the last admin, lockouts, second factors', async () => {
    const users = await listUsers(db);
    const soleAdmin = await soleAdminAccountExists(db);
    assert.equal(soleAdmin, true);
    for (const by of [admin, CLI_ACTOR]) {
      const batched = await userListItems(db, users, by, soleAdmin);
      const alone = [];
      for (const user of users) alone.push(await itemReadAlone(db, user, by, soleAdmin));
      assert.deepEqual(json(batched), json(alone));
    }

    // What each case must show, through the API (so also its JSON).
    const { body } = await api('GET', '/users?limit=200');
    const shown = new Map<string, Record<string, unknown>>(
      body.items.map((item: Record<string, unknown>) => [item.username, item]),
    );
    const at = (username: string) => shown.get(username)!;
    assert.equal(at('admin').you, true);
    assert.equal(at('admin').lastAdmin, true);
    assert.equal([...shown.values()].filter((item) => item.you || item.lastAdmin).length, 1);
    assert.deepEqual(at('alice').groups, ['editors']);
    assert.ok((at('alice').effectiveRoles as string[]).includes('app_readwrite'), 'mapped from editors');
    assert.ok(Date.parse(at('alice').lockedUntil as string) > Date.now());
    assert.ok(Date.parse(at('erin').lockedUntil as string) > Date.now());
    assert.equal(at('frank').lockedUntil, null);
    assert.equal(at('bob').lockedUntil, null);
    assert.deepEqual(at('bob').secondFactor, { totp: true, recoveryCodesLeft: 7, passkeys: 0 });
    assert.deepEqual(at('carol').secondFactor, { totp: false, recoveryCodesLeft: 0, passkeys: 2 });
    assert.equal(at('carol').disabled, true);
    assert.deepEqual(at('dave').secondFactor, { totp: false, recoveryCodesLeft: 0, passkeys: 0 });
    assert.deepEqual(at('member-03').secondFactor, { totp: true, recoveryCodesLeft: 1, passkeys: 2 });
    assert.ok(at('member-05').lockedUntil);
    assert.equal(at('member-06').lockedUntil, null);
  });
});
