// An admin's view of the applications holding access to a local account — what the person sees
// under "Apps with access" on /account — and taking one back for them (a lost laptop with an app
// still signed in, an application withdrawn): its remembered consent and every grant given to it
// end, with their codes and refresh tokens; the next sign-in to it asks again.
import type pg from 'pg';
import { type AppAccess, appsWithAccess, revokeAppAccess } from '../account/apps.ts';
import { notFound } from '../observability/errors.ts';
import { subsOfUpstream } from '../store/identities.ts';
import { tx } from '../store/pool.ts';
import { LOCAL_CONNECTOR_ID } from '../store/users.ts';
import { type AdminActor, recordAdminChange } from './admin-actor.ts';
import { existingUser } from './existing-user.ts';

export interface AdminAppView {
  clientId: string;
  openidScopes: string[];
  apis: { indicator: string; scopes: string[] }[];
  since: string;
}

const appView = (app: AppAccess): AdminAppView => ({
  clientId: app.clientId,
  openidScopes: app.openidScopes,
  apis: app.apis,
  since: app.since.toISOString(),
});

/** The applications with access to the account, most recent first. */
export async function listUserApps(pool: pg.Pool, id: string): Promise<AdminAppView[]> {
  const user = await existingUser(pool, id);
  const subs = await subsOfUpstream(pool, LOCAL_CONNECTOR_ID, user.id);
  const apps = (await Promise.all(subs.map((sub) => appsWithAccess(pool, sub)))).flat();
  return apps.sort((a, b) => b.since.getTime() - a.since.getTime()).map(appView);
}

/** Takes back one application's access to the account: 404 when it had none. */
export async function removeUserAppAccess(
  pool: pg.Pool,
  id: string,
  clientId: string,
  by: AdminActor,
): Promise<void> {
  const user = await existingUser(pool, id);
  await tx(pool, async (db) => {
    let consent = false;
    let grants = 0;
    for (const sub of await subsOfUpstream(db, LOCAL_CONNECTOR_ID, user.id)) {
      const revoked = await revokeAppAccess(db, sub, clientId);
      consent ||= revoked.consent;
      grants += revoked.grants;
    }
    if (!consent && grants === 0) throw notFound(`user ${user.username} gave ${clientId} no access`);
    await recordAdminChange(db, by, {
      type: 'admin.user.app_access_removed',
      subject: user.username,
      details: { id: user.id, clientId, consent, grants },
    });
  });
}
