import type { Grant, KoaContextWithOIDC } from 'oidc-provider';
import type { Catalog } from '../catalog/catalog.ts';
import type { Queryable } from '../store/pool.ts';
import { recallConsent, rememberConsent } from '../store/remembered-consents.ts';

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'groups', 'offline_access']);

/** oidc-provider's routes of a device sign-in (RFC 8628): the user-code page and its resumption. */
const DEVICE_ROUTES = new Set(['code_verification', 'device_resume']);

/**
 * oidc-provider's loadExistingGrant: a client marked first-party in the catalog gets what it asks
 * for without a consent page; every other client keeps the grant the user consented to — in this
 * session, or, after a sign-out (which revokes the session's grants and their tokens), what the
 * person consented to before (remembered_consents), as a new grant. A request for more than that
 * still finds it missing, so the consent page asks for the rest. A dynamically registered client
 * (not in the catalog, docs/mcp.md) is never remembered: its consent is asked at every sign-in.
 */
export function autoConsentForFirstParty(catalog: () => Catalog, db: Queryable) {
  return async function loadExistingGrant(ctx: KoaContextWithOIDC) {
    const { client, session, params } = ctx.oidc;
    if (!client || !session) return undefined;
    const { Grant } = ctx.oidc.provider;
    const approved = ctx.oidc.result?.consent?.grantId as string | undefined;
    // RFC 8628 §5.4: a device code may come from someone else (remote phishing), so every device
    // sign-in, first-party or not, is approved on its own screen: only this interaction's approval counts.
    if (DEVICE_ROUTES.has(ctx.oidc.route)) return approved ? Grant.find(approved) : undefined;
    const grantId = approved ?? session.grantIdFor(client.clientId);
    const declared = catalog().clients.get(client.clientId);
    if (!declared?.firstParty) {
      const existing = grantId ? await Grant.find(grantId) : undefined;
      if (!declared) return existing;
      // The person has just answered the consent page: what the grant now holds is what they consented to.
      if (approved && existing) await remember(db, existing);
      if (existing || !session.accountId) return existing;
      return recalled(db, new Grant({ clientId: client.clientId, accountId: session.accountId }));
    }
    const grant =
      (grantId && (await Grant.find(grantId))) ||
      new Grant({ clientId: client.clientId, accountId: session.accountId! });
    const requested = String(params?.scope ?? 'openid').split(' ');
    grant.addOIDCScope(requested.filter((scope) => OIDC_SCOPES.has(scope)).join(' '));
    for (const [indicator, server] of Object.entries(ctx.oidc.resourceServers ?? {})) {
      const offered = new Set(server.scope.split(' '));
      grant.addResourceScope(indicator, requested.filter((scope) => offered.has(scope)).join(' '));
    }
    await grant.save();
    return grant;
  };
}

/** Adds what the grant holds to what the person consented to before (a consent page asks only for what is missing). */
async function remember(db: Queryable, grant: Grant): Promise<void> {
  const before = await recallConsent(db, grant.accountId!, grant.clientId!);
  const words = (...texts: string[]) => [...new Set(texts.join(' ').split(' ').filter(Boolean))].join(' ');
  const resourceScopes: Record<string, string> = { ...before?.resourceScopes };
  for (const indicator of Object.keys(grant.resources ?? {}))
    resourceScopes[indicator] = words(resourceScopes[indicator] ?? '', grant.getResourceScope(indicator));
  await rememberConsent(db, grant.accountId!, grant.clientId!, {
    openidScope: words(before?.openidScope ?? '', grant.getOIDCScope()),
    openidClaims: [...new Set([...(before?.openidClaims ?? []), ...grant.getOIDCClaims()])],
    resourceScopes,
  });
}

/** A new grant holding what the person consented to before, or undefined when they never did. */
async function recalled(db: Queryable, grant: Grant): Promise<Grant | undefined> {
  const consent = await recallConsent(db, grant.accountId!, grant.clientId!);
  if (!consent) return undefined;
  if (consent.openidScope) grant.addOIDCScope(consent.openidScope);
  if (consent.openidClaims.length > 0) grant.addOIDCClaims(consent.openidClaims);
  for (const [indicator, scope] of Object.entries(consent.resourceScopes))
    grant.addResourceScope(indicator, scope);
  await grant.save();
  return grant;
}
