import type pg from 'pg';
import { tx } from '../store/pool.ts';
import { deleteTotp } from '../store/totp.ts';
import type { User } from '../store/users.ts';
import { type AdminActor, CLI_ACTOR, recordAdminChange } from './admin-actor.ts';
import { existingUser, existingUserNamed } from './existing-user.ts';

/**
 * `lock users totp-reset NAME`: forgets the account's authenticator and recovery codes (a lost
 * device). The next sign-in asks for the password only, or enrols anew where a role requires TOTP.
 */
export async function resetTotp(
  pool: pg.Pool,
  username: string,
  by: AdminActor = CLI_ACTOR,
): Promise<{ removed: boolean }> {
  return resetUserTotp(pool, await existingUserNamed(pool, username), by);
}

/** The admin API's TOTP reset, by user id. */
export async function resetTotpById(
  pool: pg.Pool,
  id: string,
  by: AdminActor,
): Promise<{ removed: boolean }> {
  const user = await existingUser(pool, id);
  return resetUserTotp(pool, user, by);
}

function resetUserTotp(pool: pg.Pool, user: User, by: AdminActor): Promise<{ removed: boolean }> {
  return tx(pool, async (db) => {
    const removed = await deleteTotp(db, user.id);
    await recordAdminChange(db, by, {
      type: 'admin.user.totp_reset',
      subject: user.username,
      details: { id: user.id, hadAuthenticator: removed },
    });
    return { removed };
  });
}
