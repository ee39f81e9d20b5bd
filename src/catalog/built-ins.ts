import { randomBytes } from 'node:crypto';
import type { Client } from '../model/client.ts';
import type { Resource } from '../model/resource.ts';

/** The admin API's audience: tokens for it carry `lock_admin` when the caller holds it. */
export const adminResourceId = (issuer: string) => `${issuer}/admin`;
export const CONSOLE_CLIENT_ID = 'lock-console';
/** The account page (/account, docs/account.md): Lock's own relying party, served by Lock itself. */
export const ACCOUNT_CLIENT_ID = 'lock-account';
export const accountCallbackUrl = (issuer: string) => `${issuer}/account/callback`;
/**
 * Lock redeems the account page's codes itself, in the process (src/account/account-sign-in.ts),
 * never at the token endpoint: the client is confidential with a secret no one is ever told, so
 * no one can redeem one of its codes there.
 */
const ACCOUNT_CLIENT_SECRET = randomBytes(32).toString('base64url');

/**
 * What every Lock has without configuration: the admin API as a resource, and the admin console
 * as a first-party public client (code + PKCE). They live in code, not in the database, so no
 * admin change or declarative file can remove or weaken them.
 */
export function builtInCatalog(issuer: string): { resources: Resource[]; clients: Client[] } {
  const admin = adminResourceId(issuer);
  return {
    resources: [
      {
        id: admin,
        scopes: ['admin'],
        roles: ['lock_admin'],
        accessTokenTTL: 300,
        signingAlg: 'ES256',
        accessTokenFormat: 'jwt',
        requireDpop: false,
      },
    ],
    clients: [
      {
        clientId: CONSOLE_CLIENT_ID,
        name: 'Lock admin console',
        public: true,
        firstParty: true,
        grantTypes: ['authorization_code', 'refresh_token'],
        redirectUris: [`${issuer}/admin/callback`],
        postLogoutRedirectUris: [`${issuer}/admin`],
        // The console (served by Lock at /admin) redeems its code with fetch() from Lock's own origin.
        allowedOrigins: [new URL(issuer).origin],
        requireMfa: false,
        requirePasskey: false,
        roles: [],
        resources: [admin],
        introspects: [],
        backchannelLogoutSessionRequired: false,
        dpopBoundAccessTokens: false,
        requirePushedAuthorizationRequests: false,
        idTokenSigningAlg: 'RS256',
      },
      {
        clientId: ACCOUNT_CLIENT_ID,
        name: 'Your Lock account',
        public: false,
        clientSecret: ACCOUNT_CLIENT_SECRET,
        firstParty: true,
        grantTypes: ['authorization_code'],
        redirectUris: [accountCallbackUrl(issuer)],
        postLogoutRedirectUris: [`${issuer}/account`],
        allowedOrigins: [],
        requireMfa: false,
        requirePasskey: false,
        roles: [],
        resources: [],
        introspects: [],
        backchannelLogoutSessionRequired: false,
        dpopBoundAccessTokens: false,
        requirePushedAuthorizationRequests: false,
        idTokenSigningAlg: 'RS256',
      },
    ],
  };
}
