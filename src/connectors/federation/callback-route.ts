import type { CallbackRoute } from '../connector.ts';

/**
 * Where an upstream OpenID Connect or OAuth 2.0 provider sends the browser back: one route for
 * every such type, dispatched by the connector id in the path. The redirect URI an admin registers
 * upstream is exactly `<issuer>/sso/<connector id>/callback` (ssoCallbackUrl).
 */
export const SSO_CALLBACK_ROUTE: CallbackRoute = { method: 'get', path: '/sso/:connector/callback' };

/** The redirect URI of a connector, as sent upstream and shown to the admin. */
export const ssoCallbackUrl = (issuer: string, connectorId: string): string =>
  `${issuer.replace(/\/$/, '')}/sso/${encodeURIComponent(connectorId)}/callback`;
