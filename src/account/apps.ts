// "Apps with access" on /account: every application that holds access to the person's account — what
// they consented to (remembered, src/oidc/first-party-consent.ts) and the live grants applications
// hold (first-party and self-registered clients included, which never ask) — and the way to take
// it back: the consent is forgotten and every grant the person gave that application ends, with
// its codes and refresh tokens (offline ones too). The next sign-in to it asks again.
import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import { ACCOUNT_CLIENT_ID } from '../catalog/built-ins.ts';
import { deleteGrantsOfAccountForClient, grantsOfAccount } from '../store/oidc-payloads.ts';
import { type Queryable, tx } from '../store/pool.ts';
import { consentsOfAccount, forgetConsent } from '../store/remembered-consents.ts';
import { type AccountPerson, type AccountRequest, accountAudit } from './account-context.ts';

/** One application's access to the person's account. */
export interface AppAccess {
  clientId: string;
  /** The OpenID scopes it holds (openid, profile, email, offline_access, …), in the order first given. */
  openidScopes: string[];
  /** The APIs (resource indicators) it may call on the person's behalf, with the scopes on each. */
  apis: { indicator: string; scopes: string[] }[];
  /** The earliest it was given access that still stands. */
  since: Date;
}

const words = (text: string) => text.split(' ').filter(Boolean);

/**
 * The applications with access, most recent first: a remembered consent and the live grants of
 * one client make one entry. /account's own client is not listed: it is the page itself.
 */
export async function appsWithAccess(db: Queryable, sub: string): Promise<AppAccess[]> {
  const [consents, grants] = await Promise.all([consentsOfAccount(db, sub), grantsOfAccount(db, sub)]);
  const apps = new Map<string, { scopes: Set<string>; apis: Map<string, Set<string>>; since: Date }>();
  const add = (clientId: string, since: Date, openid: string, resources: Record<string, string>) => {
    if (clientId === ACCOUNT_CLIENT_ID) return;
    const app = apps.get(clientId) ?? {
      scopes: new Set<string>(),
      apis: new Map<string, Set<string>>(),
      since,
    };
    apps.set(clientId, app);
    if (since < app.since) app.since = since;
    for (const scope of words(openid)) app.scopes.add(scope);
    for (const [indicator, scopes] of Object.entries(resources)) {
      const api = app.apis.get(indicator) ?? new Set<string>();
      for (const scope of words(scopes)) api.add(scope);
      app.apis.set(indicator, api);
    }
  };
  for (const consent of consents)
    add(consent.clientId, consent.grantedAt, consent.openidScope, consent.resourceScopes);
  for (const grant of grants) add(grant.clientId, grant.issuedAt, grant.openidScope, grant.resourceScopes);
  return [...apps]
    .map(([clientId, app]) => ({
      clientId,
      openidScopes: [...app.scopes],
      apis: [...app.apis].map(([indicator, scopes]) => ({ indicator, scopes: [...scopes] })),
      since: app.since,
    }))
    .sort((a, b) => b.since.getTime() - a.since.getTime() || a.clientId.localeCompare(b.clientId));
}

/**
 * Takes back one application's access to the account `sub`, inside `db`'s transaction: its
 * remembered consent and every grant given to it (with its codes and tokens). /account's own access
 * is the page itself, ended by signing out: it is not an app, and nothing is removed for it.
 */
export async function revokeAppAccess(
  db: Queryable,
  sub: string,
  clientId: string,
): Promise<{ consent: boolean; grants: number }> {
  if (clientId === ACCOUNT_CLIENT_ID) return { consent: false, grants: 0 };
  const consent = await forgetConsent(db, sub, clientId);
  return { consent, grants: await deleteGrantsOfAccountForClient(db, sub, clientId) };
}

/**
 * The person takes back one application's access, in one transaction, audited. False when the
 * application had none (another client's id, or access already taken back): nothing changed, and
 * the refusal is audited.
 */
export async function removeAppAccess(
  pool: pg.Pool,
  person: AccountPerson,
  request: AccountRequest,
  clientId: string,
): Promise<boolean> {
  return tx(pool, async (db) => {
    const { consent, grants } = await revokeAppAccess(db, person.sub, clientId);
    const removed = consent || grants > 0;
    await recordAuditEvent(db, {
      ...accountAudit(person, request),
      type: 'account.app.access_removed',
      outcome: removed ? 'success' : 'failure',
      ...(!removed && { reason: 'no access of this account for that client' }),
      details: { clientId, consent, grants },
    });
    return removed;
  });
}
