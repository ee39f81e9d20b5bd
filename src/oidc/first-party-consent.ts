import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Catalog } from '../catalog/catalog.ts';

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'groups', 'offline_access']);

/** oidc-provider's routes of a device sign-in (RFC 8628): the user-code page and its resumption. */
const DEVICE_ROUTES = new Set(['code_verification', 'device_resume']);

/**
 * oidc-provider's loadExistingGrant: a client marked first-party in the catalog gets what it asks
 * for without a consent page; every other client keeps the grant the user consented to.
 */
export function autoConsentForFirstParty(catalog: () => Catalog) {
  return async function loadExistingGrant(ctx: KoaContextWithOIDC) {
    const { client, session, params } = ctx.oidc;
    if (!client || !session) return undefined;
    const approved = ctx.oidc.result?.consent?.grantId as string | undefined;
    // RFC 8628 §5.4: a device code may come from someone else (remote phishing), so every device
    // sign-in, first-party or not, is approved on its own screen: only this interaction's approval counts.
    if (DEVICE_ROUTES.has(ctx.oidc.route))
      return approved ? ctx.oidc.provider.Grant.find(approved) : undefined;
    const grantId = approved ?? session.grantIdFor(client.clientId);
    if (!catalog().clients.get(client.clientId)?.firstParty)
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    const grant =
      (grantId && (await ctx.oidc.provider.Grant.find(grantId))) ||
      new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId! });
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
