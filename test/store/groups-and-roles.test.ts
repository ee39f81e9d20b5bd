// The refresh path's account SQL (groups and roles) was rewritten for speed, and a redemption
// answers the account from memory while its stamp holds: these properties pin what they answer
// against a model of the rule, for every statement that reads roles and for the accounts kept — so
// neither a leaner query nor a stale account can change who holds which role.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { AccountCache } from '../../src/store/account-cache.ts';
import { recordIdentity } from '../../src/store/identities.ts';
import { findGrantSource, upsertPayload } from '../../src/store/oidc-payloads.ts';
import {
  createUser,
  findIdentityWithLocalAccount,
  findUserWithGroupsAndRoles,
  LOCAL_CONNECTOR_ID,
  setUserGroups,
  setUserRoles,
  userGroupsAndRoles,
} from '../../src/store/users.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const ROLE_NAMES = ['auditor', 'billing', 'dev', 'ops', 'viewer'];
const GROUP_NAMES = ['eng', 'finance', 'staff'];
const CONNECTORS = [LOCAL_CONNECTOR_ID, '*', 'ldap-corp'];

interface Case {
  /** The catalog: role name → position. */
  roles: Map<string, number>;
  userGroups: string[];
  directRoles: string[];
  /** Mappings by connector and group; role names may repeat or be absent from the catalog. */
  mappings: { connector: string; group: string; roles: string[] }[];
}

const subset = <T>(values: T[]) => fc.subarray(values);
const caseArbitrary: fc.Arbitrary<Case> = fc
  .record({
    catalog: fc.array(fc.tuple(fc.constantFrom(...ROLE_NAMES), fc.integer({ min: -2, max: 2 })), {
      maxLength: 5,
    }),
    userGroups: subset(GROUP_NAMES),
    directPick: subset(ROLE_NAMES),
    mappings: fc.uniqueArray(
      fc.record({
        connector: fc.constantFrom(...CONNECTORS),
        group: fc.constantFrom(...GROUP_NAMES, 'contractors'),
        roles: fc.array(fc.constantFrom(...ROLE_NAMES, 'undefined-role'), { maxLength: 4 }),
      }),
      { selector: (mapping) => `${mapping.connector}/${mapping.group}`, maxLength: 8 },
    ),
  })
  .map(({ catalog, userGroups, directPick, mappings }) => {
    const roles = new Map(catalog);
    return { roles, userGroups, directRoles: directPick.filter((name) => roles.has(name)), mappings };
  });

/** The rule: direct roles and those the user's groups map to for the local connector or `*`, defined in the catalog, by position then name. */
function expectedRoles(c: Case): string[] {
  const named = new Set(c.directRoles);
  for (const mapping of c.mappings)
    if ([LOCAL_CONNECTOR_ID, '*'].includes(mapping.connector) && c.userGroups.includes(mapping.group))
      for (const role of mapping.roles) named.add(role);
  return [...named]
    .filter((name) => c.roles.has(name))
    .sort((a, b) => c.roles.get(a)! - c.roles.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
}

describe('groups and roles as every token reads them', () => {
  let db: TestDatabase;
  let userId: string;
  let sub: string;
  before(async () => {
    db = await createTestDatabase();
    await db.pool.query(`INSERT INTO groups (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, [
      GROUP_NAMES,
    ]);
    userId = (await createUser(db.pool, { username: 'mallory' })).id;
    sub = (
      await recordIdentity(db.pool, LOCAL_CONNECTOR_ID, {
        upstreamId: userId,
        username: 'mallory',
        groups: [],
      })
    ).sub;
    await upsertPayload(db.pool, {
      model: 'RefreshToken',
      id: 'token-1',
      payload: { accountId: sub, kind: 'RefreshToken' },
      grantId: null,
      userCode: null,
      uid: null,
      expiresIn: 3600,
    });
  });
  after(() => db.drop());

  it('gives the groups, and the direct and mapped roles of the catalog in priority order, to every reader, and to a redemption from the accounts kept', async () => {
    const accounts = new AccountCache();
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (c) => {
        await db.pool.query('DELETE FROM role_mappings');
        await db.pool.query('DELETE FROM user_roles');
        await db.pool.query('DELETE FROM roles');
        for (const [name, position] of c.roles)
          await db.pool.query('INSERT INTO roles (name, position) VALUES ($1, $2)', [name, position]);
        for (const mapping of c.mappings)
          await db.pool.query(
            'INSERT INTO role_mappings (connector, group_name, roles) VALUES ($1, $2, $3)',
            [mapping.connector, mapping.group, mapping.roles],
          );
        await setUserGroups(db.pool, userId, c.userGroups);
        await setUserRoles(db.pool, userId, c.directRoles);

        const expected = { groups: [...c.userGroups].sort(), roles: expectedRoles(c) };
        assert.deepEqual(await userGroupsAndRoles(db.pool, userId), expected);
        const withUser = await findUserWithGroupsAndRoles(db.pool, userId);
        assert.deepEqual({ groups: withUser?.groups, roles: withUser?.roles }, expected);
        const identity = await findIdentityWithLocalAccount(db.pool, sub);
        assert.deepEqual({ groups: identity?.local?.groups, roles: identity?.local?.roles }, expected);
        // A redemption: the account kept by a process that read it before any of this case's
        // changes, if the stamp its token's statement reads now says it still holds, else read again.
        const { stamp } = (await findGrantSource(db.pool, 'RefreshToken', 'token-1')).account ?? {};
        assert.ok(stamp);
        const redeemed = accounts.current(sub, stamp) ?? (await accounts.read(db.pool, sub));
        assert.deepEqual({ groups: redeemed?.local?.groups, roles: redeemed?.local?.roles }, expected);
        assert.equal(redeemed?.local?.user.id, userId);
      }),
      { numRuns: 60 },
    );
  });
});
