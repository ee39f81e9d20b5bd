import type { Queryable } from './pool.ts';

/** What a person consented to for one client: OpenID scopes and claims, and scopes per resource. */
export interface RememberedConsent {
  openidScope: string;
  openidClaims: string[];
  /** resource indicator → space-separated scopes */
  resourceScopes: Record<string, string>;
}

/** Replaces what is remembered for this account and client (the grant holds the whole consent). */
export async function rememberConsent(
  db: Queryable,
  accountId: string,
  clientId: string,
  consent: RememberedConsent,
): Promise<void> {
  await db.query(
    `INSERT INTO remembered_consents (account_id, client_id, openid_scope, openid_claims, resource_scopes)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (account_id, client_id) DO UPDATE
       SET openid_scope = $3, openid_claims = $4, resource_scopes = $5, granted_at = now()`,
    [accountId, clientId, consent.openidScope, consent.openidClaims, consent.resourceScopes],
  );
}

export async function recallConsent(
  db: Queryable,
  accountId: string,
  clientId: string,
): Promise<RememberedConsent | undefined> {
  const { rows } = await db.query<{
    openid_scope: string;
    openid_claims: string[];
    resource_scopes: Record<string, string>;
  }>(
    `SELECT openid_scope, openid_claims, resource_scopes FROM remembered_consents
      WHERE account_id = $1 AND client_id = $2`,
    [accountId, clientId],
  );
  const row = rows[0];
  return (
    row && {
      openidScope: row.openid_scope,
      openidClaims: row.openid_claims,
      resourceScopes: row.resource_scopes,
    }
  );
}

/** One client's remembered consent, as the person's list of apps shows it. */
export interface ConsentOfAccount extends RememberedConsent {
  clientId: string;
  grantedAt: Date;
}

/** What the account consented to, per client, most recent first. */
export async function consentsOfAccount(db: Queryable, accountId: string): Promise<ConsentOfAccount[]> {
  const { rows } = await db.query<{
    client_id: string;
    openid_scope: string;
    openid_claims: string[];
    resource_scopes: Record<string, string>;
    granted_at: Date;
  }>(
    `SELECT client_id, openid_scope, openid_claims, resource_scopes, granted_at FROM remembered_consents
      WHERE account_id = $1 ORDER BY granted_at DESC, client_id`,
    [accountId],
  );
  return rows.map((row) => ({
    clientId: row.client_id,
    openidScope: row.openid_scope,
    openidClaims: row.openid_claims,
    resourceScopes: row.resource_scopes,
    grantedAt: row.granted_at,
  }));
}

/** The person withdraws their consent to one client: true when there was one. */
export async function forgetConsent(db: Queryable, accountId: string, clientId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'DELETE FROM remembered_consents WHERE account_id = $1 AND client_id = $2',
    [accountId, clientId],
  );
  return (rowCount ?? 0) > 0;
}

/** Withdraws the consents the accounts gave (their sessions were ended by an admin). */
export async function forgetConsentsOfAccounts(db: Queryable, accountIds: string[]): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM remembered_consents WHERE account_id = ANY($1)', [
    accountIds,
  ]);
  return rowCount ?? 0;
}

/** A deleted client's consents go with it (a new client of the same id must ask again). */
export async function forgetConsentsOfClient(db: Queryable, clientId: string): Promise<void> {
  await db.query('DELETE FROM remembered_consents WHERE client_id = $1', [clientId]);
}
