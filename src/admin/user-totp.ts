import type pg from 'pg';
import { notFound } from '../observability/errors.ts';
import { tx } from '../store/pool.ts';
import { deleteTotp } from '../store/totp.ts';
import { findUserByUsername } from '../store/users.ts';
import { type AdminActor, CLI_ACTOR, recordAdminChange } from './admin-actor.ts';

/**
 * `lock users totp-reset NAME`: forgets the account's authenticator and recovery codes (a lost
 * device). The next sign-in asks for the password only, or enrols anew where a role requires TOTP.
 */
export async function resetTotp(
  pool: pg.Pool,
  username: string,
  by: AdminActor = CLI_ACTOR,
): Promise<{ removed: boolean }> {
  const user = await findUserByUsername(pool, username);
  if (!user) throw notFound(`no local user named "${username}"`);
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
