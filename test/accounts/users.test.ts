import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword, verifyPassword } from '../../src/security/passwords.ts';
import { ConflictError } from '../../src/store/pool.ts';
import {
  createUser,
  deleteUser,
  findCredentials,
  findUserById,
  findUserByUsername,
  listUsers,
  setPasswordHash,
  setUserDisabled,
  setUserGroups,
  setUserRoles,
  UnknownRoleError,
  updateUserProfile,
  userGroupsAndRoles,
} from '../../src/store/users.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('local accounts', () => {
  let database: TestDatabase;
  const db = () => database.pool;

  before(async () => {
    database = await createTestDatabase();
    // Role priority order is deliberately not alphabetical and not insertion order.
    await db().query(
      `INSERT INTO roles (name, position) VALUES
         ('app_readonly', 3), ('app_admin', 1), ('app_readwrite', 2), ('app_audit', 4)`,
    );
  });
  after(async () => {
    await database.drop();
  });

  describe('users', () => {
    it('creates a user and finds it by any case of its username and by id', async () => {
      const created = await createUser(db(), {
        username: 'Alice',
        email: 'alice@example.com',
        name: 'Alice A.',
      });
      assert.equal(created.username, 'Alice');
      assert.equal(created.email, 'alice@example.com');
      assert.equal(created.disabled, false);
      assert.equal(created.hasPassword, false);
      assert.equal(created.managedBy, null);
      assert.deepEqual(await findUserByUsername(db(), 'alice'), created);
      assert.deepEqual(await findUserByUsername(db(), 'ALICE'), created);
      assert.deepEqual(await findUserById(db(), created.id), created);
      assert.equal(await findUserByUsername(db(), 'alic'), undefined);
      assert.equal(await findUserById(db(), UNKNOWN_ID), undefined);
      assert.equal(await findUserById(db(), 'not-a-uuid'), undefined);
    });

    it('refuses a second user whose username differs only in case', async () => {
      await createUser(db(), { username: 'bob' });
      await assert.rejects(createUser(db(), { username: 'Bob' }), (error: unknown) => {
        assert.ok(error instanceof ConflictError);
        assert.match(error.message, /"Bob"/);
        return true;
      });
      const { rows } = await db().query("SELECT username FROM users WHERE lower(username) = 'bob'");
      assert.deepEqual(rows, [{ username: 'bob' }]);
    });

    it('keeps the password hash out of every read except findCredentials', async () => {
      const passwordHash = await hashPassword('Carol-sings-2025');
      const carol = await createUser(db(), { username: 'carol', passwordHash, managedBy: 'config' });
      assert.equal(carol.hasPassword, true);
      assert.equal(carol.managedBy, 'config');
      const reads = [carol, await findUserByUsername(db(), 'carol'), await findUserById(db(), carol.id)];
      for (const user of [...reads, ...(await listUsers(db()))])
        assert.ok(!JSON.stringify(user).includes('$argon2'), 'no hash in a user');

      const credentials = await findCredentials(db(), 'CAROL');
      assert.ok(credentials?.passwordHash);
      assert.equal(credentials.user.id, carol.id);
      assert.equal(credentials.passwordHash, passwordHash);
      assert.equal((await verifyPassword(credentials.passwordHash, 'Carol-sings-2025')).valid, true);
      assert.equal(await findCredentials(db(), 'nobody'), undefined);
    });

    it('lists users in username order, ignoring case', async () => {
      const usernames = (await listUsers(db())).map((user) => user.username);
      assert.deepEqual(usernames, ['Alice', 'bob', 'carol']);
    });

    it('changes password, disabled flag and profile, and says when the user does not exist', async () => {
      const dave = await createUser(db(), {
        username: 'dave',
        passwordHash: await hashPassword('dave-old-pass'),
      });
      const newHash = await hashPassword('dave-new-pass');
      assert.equal(await setPasswordHash(db(), dave.id, newHash), true);
      assert.equal((await findCredentials(db(), 'dave'))?.passwordHash, newHash);
      assert.equal(await setPasswordHash(db(), dave.id, null), true);
      assert.equal((await findUserById(db(), dave.id))?.hasPassword, false);
      assert.equal((await findCredentials(db(), 'dave'))?.passwordHash, null);

      assert.equal(await setUserDisabled(db(), dave.id, true), true);
      const disabled = await findUserById(db(), dave.id);
      assert.ok(disabled);
      assert.equal(disabled.disabled, true);
      assert.ok(disabled.updatedAt >= dave.updatedAt);

      assert.equal(await updateUserProfile(db(), dave.id, { email: 'dave@example.com' }), true);
      const updated = await findUserById(db(), dave.id);
      assert.ok(updated);
      assert.equal(updated.email, 'dave@example.com');
      assert.equal(updated.name, undefined);

      assert.equal(await setPasswordHash(db(), UNKNOWN_ID, newHash), false);
      assert.equal(await setUserDisabled(db(), UNKNOWN_ID, true), false);
      assert.equal(await updateUserProfile(db(), 'not-a-uuid', {}), false);
    });

    it('deletes a user with its group memberships and role grants', async () => {
      const erin = await createUser(db(), { username: 'erin' });
      await setUserGroups(db(), erin.id, ['erin-team']);
      await setUserRoles(db(), erin.id, ['app_audit']);
      assert.equal(await deleteUser(db(), erin.id), true);
      assert.equal(await findUserById(db(), erin.id), undefined);
      assert.equal(await deleteUser(db(), erin.id), false);
      const left = await db().query(
        'SELECT user_id FROM user_groups WHERE user_id = $1 UNION ALL SELECT user_id FROM user_roles WHERE user_id = $1',
        [erin.id],
      );
      assert.equal(left.rowCount, 0);
      const group = await db().query("SELECT name FROM groups WHERE name = 'erin-team'");
      assert.equal(group.rowCount, 1, 'the group outlives its last member');
    });
  });

  describe('groups and roles', () => {
    before(async () => {
      await db().query(
        `INSERT INTO role_mappings (connector, group_name, roles) VALUES
           ('local', 'editors', '{app_readwrite}'),
           ('local', 'auditors', '{app_audit,app_readonly}'),
           ('*', 'admins', '{app_admin}'),
           ('corp-ad', 'editors', '{app_admin}'),
           ('local', 'ghosts', '{no_such_role}')`,
      );
    });

    it('replaces a user’s groups, creating groups that do not exist', async () => {
      const frank = await createUser(db(), { username: 'frank' });
      await setUserGroups(db(), frank.id, ['editors', 'auditors', 'editors']);
      assert.deepEqual((await userGroupsAndRoles(db(), frank.id)).groups, ['auditors', 'editors']);
      await setUserGroups(db(), frank.id, ['admins', 'editors']);
      assert.deepEqual((await userGroupsAndRoles(db(), frank.id)).groups, ['admins', 'editors']);
      const { rows } = await db().query<{ name: string }>(
        "SELECT name FROM groups WHERE name IN ('editors', 'auditors', 'admins') ORDER BY name",
      );
      assert.deepEqual(
        rows.map((row) => row.name),
        ['admins', 'auditors', 'editors'],
      );
      await setUserGroups(db(), frank.id, []);
      assert.deepEqual(await userGroupsAndRoles(db(), frank.id), { groups: [], roles: [] });
    });

    it('maps groups to roles through the local and "*" mappings only, in role priority order', async () => {
      const grace = await createUser(db(), { username: 'grace' });
      await setUserGroups(db(), grace.id, ['auditors', 'editors']);
      // corp-ad maps editors to app_admin: that mapping is not the local connector's.
      assert.deepEqual(await userGroupsAndRoles(db(), grace.id), {
        groups: ['auditors', 'editors'],
        roles: ['app_readwrite', 'app_readonly', 'app_audit'],
      });
      await setUserGroups(db(), grace.id, ['auditors', 'admins', 'ghosts']);
      assert.deepEqual(await userGroupsAndRoles(db(), grace.id), {
        groups: ['admins', 'auditors', 'ghosts'],
        roles: ['app_admin', 'app_readonly', 'app_audit'],
      });
    });

    it('adds directly granted roles to mapped ones, once each, in priority order', async () => {
      const heidi = await createUser(db(), { username: 'heidi' });
      await setUserGroups(db(), heidi.id, ['editors']);
      await setUserRoles(db(), heidi.id, ['app_readwrite', 'app_audit', 'app_admin']);
      assert.deepEqual((await userGroupsAndRoles(db(), heidi.id)).roles, [
        'app_admin',
        'app_readwrite',
        'app_audit',
      ]);
      await setUserRoles(db(), heidi.id, ['app_readonly']);
      assert.deepEqual((await userGroupsAndRoles(db(), heidi.id)).roles, ['app_readwrite', 'app_readonly']);
    });

    it('follows a change of role priority', async () => {
      const ivan = await createUser(db(), { username: 'ivan' });
      await setUserRoles(db(), ivan.id, ['app_admin', 'app_readonly']);
      await db().query("UPDATE roles SET position = 0 WHERE name = 'app_readonly'");
      try {
        assert.deepEqual((await userGroupsAndRoles(db(), ivan.id)).roles, ['app_readonly', 'app_admin']);
      } finally {
        await db().query("UPDATE roles SET position = 3 WHERE name = 'app_readonly'");
      }
    });

    it('refuses to grant a role that does not exist, naming it, and changes nothing', async () => {
      const judy = await createUser(db(), { username: 'judy' });
      await setUserRoles(db(), judy.id, ['app_readonly']);
      await assert.rejects(
        setUserRoles(db(), judy.id, ['app_admin', 'app_superuser', 'app_root']),
        (error: unknown) => {
          assert.ok(error instanceof UnknownRoleError);
          assert.equal(error.message, 'unknown role(s): app_root, app_superuser');
          return true;
        },
      );
      assert.deepEqual((await userGroupsAndRoles(db(), judy.id)).roles, ['app_readonly']);
    });

    it('drops a role from users when the role is deleted', async () => {
      const kim = await createUser(db(), { username: 'kim' });
      await db().query("INSERT INTO roles (name, position) VALUES ('temporary', 9)");
      await setUserRoles(db(), kim.id, ['temporary', 'app_readonly']);
      await db().query("DELETE FROM roles WHERE name = 'temporary'");
      assert.deepEqual((await userGroupsAndRoles(db(), kim.id)).roles, ['app_readonly']);
    });

    it('gives an unknown user no groups and no roles', async () => {
      assert.deepEqual(await userGroupsAndRoles(db(), UNKNOWN_ID), { groups: [], roles: [] });
      assert.deepEqual(await userGroupsAndRoles(db(), 'not-a-uuid'), { groups: [], roles: [] });
    });
  });
});
