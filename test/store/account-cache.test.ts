// A redemption answers the account from memory while the stamp its token's statement reads says
// nothing changed (src/store/account-cache.ts, migration 0038). Each change below is made the way
// Lock makes it, after a redemption kept the account: the next redemption must see it. A change
// that did not move the stamp would be answered from memory, stale.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AccountCache } from '../../src/store/account-cache.ts';
import {
  deleteRole,
  deleteRoleMapping,
  setRolePositions,
  upsertRole,
  upsertRoleMapping,
} from '../../src/store/catalog-repositories.ts';
import { addGroupMember, deleteGroup, removeGroupMember } from '../../src/store/groups.ts';
import { recordIdentity } from '../../src/store/identities.ts';
import { findGrantSource, upsertPayload } from '../../src/store/oidc-payloads.ts';
import type { Queryable } from '../../src/store/pool.ts';
import {
  createUser,
  deleteUser,
  type IdentityWithLocalAccount,
  LOCAL_CONNECTOR_ID,
  renameUser,
  setPasswordHash,
  setUserDisabled,
  setUserGroups,
  setUserRoles,
  updateUserProfile,
} from '../../src/store/users.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

describe('the accounts a redemption keeps', () => {
  let db: TestDatabase;
  let accounts: AccountCache;
  let userId: string;
  let sub: string;
  let tokens = 0;

  /** A refresh token of the account, redeemed as the adapter does: the stamp, then memory or a read. */
  async function redeem(): Promise<{ account: IdentityWithLocalAccount | undefined; fromMemory: boolean }> {
    const id = `token-${++tokens}`;
    await upsertPayload(db.pool, {
      model: 'RefreshToken',
      id,
      payload: { accountId: sub, kind: 'RefreshToken' },
      grantId: null,
      userCode: null,
      uid: null,
      expiresIn: 3600,
    });
    const { account } = await findGrantSource(db.pool, 'RefreshToken', id);
    assert.ok(account, 'the token names its account');
    if (account.stamp === undefined) return { account: undefined, fromMemory: false };
    const kept = accounts.current(sub, account.stamp);
    return kept
      ? { account: kept, fromMemory: true }
      : { account: await accounts.read(db.pool, sub), fromMemory: false };
  }

  /** The roles admin, editor, viewer in that order, and the group staff mapped to viewer. */
  async function setCatalog() {
    for (const [position, name] of ['admin', 'editor', 'viewer'].entries())
      await upsertRole(db.pool, { name }, position, null);
    await upsertRoleMapping(
      db.pool,
      { connector: LOCAL_CONNECTOR_ID, group: 'staff', roles: ['viewer'] },
      null,
    );
  }

  before(async () => {
    db = await createTestDatabase();
    await setCatalog();
  });
  after(() => db.drop());

  beforeEach(async () => {
    accounts = new AccountCache();
    userId = (await createUser(db.pool, { username: `ann-${tokens}`, email: 'ann@example.com' })).id;
    await setUserGroups(db.pool, userId, ['staff']);
    await setUserRoles(db.pool, userId, ['editor']);
    sub = (
      await recordIdentity(db.pool, LOCAL_CONNECTOR_ID, { upstreamId: userId, username: 'ann', groups: [] })
    ).sub;
    const first = await redeem();
    assert.equal(first.fromMemory, false);
    const second = await redeem();
    assert.equal(second.fromMemory, true, 'an unchanged account is answered from memory');
    assert.deepEqual(second.account?.local?.roles, ['editor', 'viewer']);
  });

  const changes: [
    string,
    (db: Queryable) => Promise<unknown>,
    (account: IdentityWithLocalAccount | undefined) => void,
  ][] = [
    [
      'a direct role granted',
      (db) => setUserRoles(db, userId, ['admin', 'editor']),
      (a) => assert.deepEqual(a?.local?.roles, ['admin', 'editor', 'viewer']),
    ],
    [
      'a direct role taken away',
      (db) => setUserRoles(db, userId, []),
      (a) => assert.deepEqual(a?.local?.roles, ['viewer']),
    ],
    [
      'groups replaced',
      (db) => setUserGroups(db, userId, ['contractors']),
      (a) => {
        assert.deepEqual(a?.local?.groups, ['contractors']);
        assert.deepEqual(a?.local?.roles, ['editor']);
      },
    ],
    [
      'added to a group',
      (db) => addGroupMember(db, 'contractors', userId),
      (a) => assert.deepEqual(a?.local?.groups, ['contractors', 'staff']),
    ],
    [
      'removed from a group',
      (db) => removeGroupMember(db, 'staff', userId),
      (a) => assert.deepEqual(a?.local?.roles, ['editor']),
    ],
    ['the group deleted', (db) => deleteGroup(db, 'staff'), (a) => assert.deepEqual(a?.local?.groups, [])],
    [
      'the role mapping changed',
      (db) =>
        upsertRoleMapping(db, { connector: LOCAL_CONNECTOR_ID, group: 'staff', roles: ['admin'] }, null),
      (a) => assert.deepEqual(a?.local?.roles, ['admin', 'editor']),
    ],
    [
      'the role mapping removed',
      (db) => deleteRoleMapping(db, LOCAL_CONNECTOR_ID, 'staff'),
      (a) => assert.deepEqual(a?.local?.roles, ['editor']),
    ],
    [
      'the roles reordered',
      (db) => setRolePositions(db, ['viewer', 'editor', 'admin']),
      (a) => assert.deepEqual(a?.local?.roles, ['viewer', 'editor']),
    ],
    [
      'a role deleted',
      (db) => deleteRole(db, 'editor'),
      (a) => assert.deepEqual(a?.local?.roles, ['viewer']),
    ],
    [
      'the account disabled',
      (db) => setUserDisabled(db, userId, true),
      (a) => assert.equal(a?.local?.user.disabled, true),
    ],
    [
      'the email changed',
      (db) => updateUserProfile(db, userId, { email: 'ann@example.org' }),
      (a) => assert.equal(a?.local?.user.email, 'ann@example.org'),
    ],
    [
      'renamed',
      (db) => renameUser(db, userId, 'annie'),
      (a) => assert.equal(a?.local?.user.username, 'annie'),
    ],
    [
      'password sign-in turned off',
      (db) => setPasswordHash(db, userId, null),
      (a) => assert.equal(a?.local?.user.hasPassword, false),
    ],
    ['the account deleted', (db) => deleteUser(db, userId), (a) => assert.equal(a?.local, null)],
    [
      'the identity deleted',
      (db) => db.query('DELETE FROM identities WHERE sub = $1', [sub]),
      (a) => assert.equal(a, undefined),
    ],
    [
      'the identity signed in again with another name',
      (db) => recordIdentity(db, LOCAL_CONNECTOR_ID, { upstreamId: userId, username: 'ann-2', groups: [] }),
      (a) => assert.equal(a?.identity.username, 'ann-2'),
    ],
  ];

  for (const [change, make, expect] of changes)
    it(`sees ${change} at the next redemption`, async () => {
      await make(db.pool);
      const next = await redeem();
      assert.equal(next.fromMemory, false, 'the change moved the stamp');
      expect(next.account);
      // Catalog changes are undone, so that every case starts from the same roles and mappings.
      await setCatalog();
    });

  it('never keeps a local account whose identity names the user other than PostgreSQL prints its id', async () => {
    const other = await createUser(db.pool, { username: 'bob' });
    const { sub: upperSub } = await recordIdentity(db.pool, LOCAL_CONNECTOR_ID, {
      upstreamId: other.id.toUpperCase(),
      username: 'bob',
      groups: [],
    });
    const read = await accounts.read(db.pool, upperSub);
    assert.equal(read?.local?.user.id, other.id, 'the account is found');
    assert.equal(accounts.current(upperSub, read.stamp), undefined, 'but not kept');
  });

  it('keeps at most its limit, the least recently used going first', async () => {
    const small = new AccountCache(2);
    const subs: string[] = [];
    for (const name of ['c1', 'c2', 'c3']) {
      const user = await createUser(db.pool, { username: name });
      subs.push(
        (
          await recordIdentity(db.pool, LOCAL_CONNECTOR_ID, {
            upstreamId: user.id,
            username: name,
            groups: [],
          })
        ).sub,
      );
    }
    const c1 = await small.read(db.pool, subs[0]!);
    const c2 = await small.read(db.pool, subs[1]!);
    assert.ok(small.current(subs[0]!, c1!.stamp), 'c1 is kept, and now the most recently used');
    const c3 = await small.read(db.pool, subs[2]!);
    assert.equal(small.current(subs[1]!, c2!.stamp), undefined, 'c2, the least recently used, went');
    assert.ok(small.current(subs[0]!, c1!.stamp));
    assert.ok(small.current(subs[2]!, c3!.stamp));
  });

  it('shares nothing a request could change for the next', async () => {
    const { account } = await redeem();
    assert.throws(() => {
      (account!.local!.roles as string[]).push('admin');
    }, TypeError);
  });
});
