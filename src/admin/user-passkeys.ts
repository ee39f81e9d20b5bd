import type pg from 'pg';
import { notFound } from '../observability/errors.ts';
import { deleteAllPasskeys, deletePasskey, listPasskeys, type StoredPasskey } from '../store/passkeys.ts';
import { tx } from '../store/pool.ts';
import type { User } from '../store/users.ts';
import { type AdminActor, CLI_ACTOR, recordAdminChange } from './admin-actor.ts';
import { existingUser, existingUserNamed } from './existing-user.ts';

/**
 * What an admin sees of a person's passkeys: enough to tell them apart and to decide which one
 * was lost. Never the public key or the credential id: neither helps an admin, and the credential
 * id is what a relying party would look an account up by.
 */
export interface AdminPasskeyView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  /** BE: a synced passkey (may live on several devices); false: bound to one device. */
  synced: boolean;
  /** BS, as the authenticator last said. */
  backedUp: boolean;
  /** The authenticator model (all zeros when the authenticator did not say). */
  aaguid: string;
}

const passkeyView = (passkey: StoredPasskey): AdminPasskeyView => ({
  id: passkey.id,
  name: passkey.name,
  createdAt: passkey.createdAt.toISOString(),
  lastUsedAt: passkey.lastUsedAt ? passkey.lastUsedAt.toISOString() : null,
  synced: passkey.backupEligible,
  backedUp: passkey.backedUp,
  aaguid: passkey.aaguid,
});

export async function listUserPasskeys(pool: pg.Pool, id: string): Promise<AdminPasskeyView[]> {
  const user = await existingUser(pool, id);
  return (await listPasskeys(pool, user.id)).map(passkeyView);
}

/** Removes one passkey of the account (a lost device): it signs nobody in afterwards. */
export async function removeUserPasskey(
  pool: pg.Pool,
  id: string,
  passkeyId: string,
  by: AdminActor,
): Promise<{ user: User; name: string }> {
  const user = await existingUser(pool, id);
  return tx(pool, async (db) => {
    const removed = await deletePasskey(db, user.id, passkeyId);
    if (!removed) throw notFound(`user ${user.username} has no passkey ${passkeyId}`);
    await recordAdminChange(db, by, {
      type: 'admin.user.passkey_removed',
      subject: user.username,
      details: { id: user.id, passkey: removed.id, name: removed.name },
    });
    return { user, name: removed.name };
  });
}

/** `lock users passkeys-reset NAME`: removes every passkey of the account. */
export async function resetPasskeys(
  pool: pg.Pool,
  username: string,
  by: AdminActor = CLI_ACTOR,
): Promise<{ user: User; removed: number }> {
  return resetUserPasskeys(pool, await existingUserNamed(pool, username), by);
}

/** The admin API's reset, by user id. */
export async function resetPasskeysById(
  pool: pg.Pool,
  id: string,
  by: AdminActor,
): Promise<{ user: User; removed: number }> {
  return resetUserPasskeys(pool, await existingUser(pool, id), by);
}

function resetUserPasskeys(pool: pg.Pool, user: User, by: AdminActor) {
  return tx(pool, async (db) => {
    const names = await deleteAllPasskeys(db, user.id);
    await recordAdminChange(db, by, {
      type: 'admin.user.passkeys_reset',
      subject: user.username,
      details: { id: user.id, removed: names.length },
    });
    return { user, removed: names.length };
  });
}
