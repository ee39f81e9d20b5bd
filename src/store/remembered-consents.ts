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
