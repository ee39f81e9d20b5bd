import { hashPassword, verifyAgainstDummy, verifyPassword } from '../../security/passwords.ts';
import type { Queryable } from '../../store/pool.ts';
import {
  type AccountWithGroupsAndRoles,
  findCredentials,
  findUserWithGroupsAndRoles,
  setPasswordHash,
  userGroupsAndRoles,
} from '../../store/users.ts';
import type {
  PasswordAttempt,
  PasswordConnector,
  PasswordLoginResult,
  RefreshConnector,
  UpstreamIdentity,
} from '../connector.ts';

/** Lock's own accounts in PostgreSQL. */
export class LocalConnector implements PasswordConnector, RefreshConnector {
  readonly type = 'local';
  readonly id: string;
  readonly name: string;
  readonly #db: Queryable;

  constructor(options: { id: string; name: string; db: Queryable }) {
    this.id = options.id;
    this.name = options.name;
    this.#db = options.db;
  }

  async login(
    username: string,
    password: string,
    attempt: PasswordAttempt = UNGUARDED,
  ): Promise<PasswordLoginResult> {
    const credentials = await findCredentials(this.#db, username);
    // Lock's sign-in pays one dummy verify for every failure that made none (an unknown name included).
    if (!credentials?.passwordHash) {
      if (attempt === UNGUARDED) await verifyAgainstDummy(password); // alone, an unknown name costs what a wrong password costs
      return { outcome: 'unknown-user' };
    }
    const { user } = credentials;
    if (!(await attempt.admit({ upstreamId: user.id, username: user.username })))
      return { outcome: 'locked-out' };
    const { valid, needsRehash } = await attempt.verifyPassword(credentials.passwordHash, password);
    if (!valid) return { outcome: 'invalid-credentials' };
    if (user.disabled)
      return {
        outcome: 'refused',
        reason: 'disabled',
        message: 'login.errors.account_disabled',
      };
    if (needsRehash) await setPasswordHash(this.#db, user.id, await hashPassword(password));
    return {
      outcome: 'authenticated',
      identity: toIdentity(user, await userGroupsAndRoles(this.#db, user.id)),
    };
  }

  async refresh(identity: UpstreamIdentity): Promise<UpstreamIdentity | undefined> {
    return this.identityOf((await findUserWithGroupsAndRoles(this.#db, identity.upstreamId)) ?? null);
  }

  /** What `refresh` answers, for an account already read (findIdentityWithLocalAccount): no query. */
  identityOf(found: AccountWithGroupsAndRoles | null): UpstreamIdentity | undefined {
    if (!found || found.user.disabled) return undefined;
    return toIdentity(found.user, found);
  }
}

/** Outside a guarded sign-in (tests, tools): every account admitted, verifies unbounded. */
const UNGUARDED: PasswordAttempt = { admit: async () => true, verifyPassword };

function toIdentity(
  user: { id: string; username: string; email?: string; emailVerified: boolean; name?: string },
  { groups, roles }: { groups: string[]; roles: string[] },
): UpstreamIdentity {
  return {
    roles,
    upstreamId: user.id,
    username: user.username,
    ...(user.email !== undefined && { email: user.email, claims: { email_verified: user.emailVerified } }),
    ...(user.name !== undefined && { name: user.name }),
    groups,
  };
}
