import type { Configuration } from 'oidc-provider';
import { CLIENT_ASSERTION_ALGS } from '../model/client-keys.ts';
import { SIGNING_ALGS } from '../model/signing-alg.ts';
import { LANGUAGES } from '../web/i18n.ts';

/**
 * What Lock offers of OAuth 2.0 / OpenID Connect, in one place. oidc-provider builds its
 * discovery document from this configuration, so discovery advertises exactly this; and every
 * member it advertises is proven end to end by test/oidc/discovery.test.ts, which fails when
 * discovery names something without a test. Anything else oidc-provider could offer is off here,
 * by name, so that a default of a later oidc-provider version cannot turn it on unnoticed.
 */

/**
 * Client authentication, at the token, introspection and revocation endpoints alike: a shared
 * secret (HTTP Basic or form body), none (public clients, with PKCE), or a JWT assertion signed
 * with the client's private key (`private_key_jwt`, RFC 7523; its `jti` is single use, kept in
 * PostgreSQL). Not `client_secret_jwt`: it signs with a secret both sides must hold in the clear,
 * so it gains nothing over `client_secret_basic` (docs/client-authentication.md).
 */
export const CLIENT_AUTH_METHODS: Configuration['clientAuthMethods'] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
];

/** DPoP proof algorithms (RFC 9449): what discovery lists as `dpop_signing_alg_values_supported`. */
export const DPOP_ALGS = ['ES256', 'PS256', 'EdDSA'] as const;

/** The only signing algorithms a client is given (client-metadata.ts names no other). */
export const ENABLED_JWA: Configuration['enabledJWA'] = {
  // A client's idTokenSigningAlg (RS256 unless it asks: ES256 and EdDSA sign several times cheaper).
  idTokenSigningAlgValues: [...SIGNING_ALGS],
  introspectionSigningAlgValues: ['RS256'],
  // private_key_jwt assertions: asymmetric algorithms only (an HS256 one is refused, whatever its key).
  clientAuthSigningAlgValues: [...CLIENT_ASSERTION_ALGS],
  // DPoP proofs (RFC 9449): asymmetric only; lock/verify accepts the same by default.
  dPoPSigningAlgValues: [...DPOP_ALGS],
};

/** Features oidc-provider has that Lock neither offers nor tests; all of them explicitly off. */
export const FEATURES_OFF = {
  devInteractions: { enabled: false },
  // Planned work: mTLS client certificates.
  mTLS: { enabled: false },
  attestClientAuth: { enabled: false },
  claimsParameter: { enabled: false },
  requestObjects: { enabled: false },
  jwtResponseModes: { enabled: false },
  jwtUserinfo: { enabled: false },
  webMessageResponseMode: { enabled: false },
  encryption: { enabled: false },
  registration: { enabled: false },
  registrationManagement: { enabled: false },
  clientIdMetadataDocument: { enabled: false },
  fapi: { enabled: false },
  openid4vci: { enabled: false },
  ciba: { enabled: false },
  richAuthorizationRequests: { enabled: false },
  rpMetadataChoices: { enabled: false },
  externalSigningSupport: { enabled: false },
} as const satisfies Configuration['features'];

/**
 * OIDC Back-Channel Logout 1.0: clients with a `backchannelLogoutUri` get logout tokens (with
 * `sid` and `sub`) when a session ends; Lock delivers them itself (src/oidc/backchannel-logout.ts).
 * With it on, ID tokens carry `sid` (oidc-provider's default claim), so that a client can match a
 * logout token to the session it signed in with.
 */
export const BACKCHANNEL_LOGOUT = { enabled: true } as const;

/** oidc-provider's default claims Lock never delivers: none since `sid` is offered (back-channel logout). */
export const CLAIMS_NOT_OFFERED = {} as Record<string, null>;

/**
 * DPoP (RFC 9449): a client that sends a `DPoP` proof to the token endpoint gets access tokens
 * bound to its key (`cnf.jkt`, in JWTs and in introspection answers) and, if public, refresh
 * tokens bound to it too. Every proof must carry a server nonce (§8): a proof made in advance by
 * someone who once held the key is useless. Nonces derive from a KEK-derived secret, so they
 * hold across Lock's processes; proof `jti`s are single use (PostgreSQL, ReplayDetection).
 */
export function dpopFeature(nonceKey: Buffer) {
  return { enabled: true, nonceSecret: nonceKey, requireNonce: () => true, allowReplay: false } as const;
}

/**
 * Pushed authorization requests (RFC 9126): a client POSTs its authorization parameters to the
 * PAR endpoint (authenticated as at the token endpoint) and sends the browser with only the
 * `request_uri` it got back; a client with `requirePushedAuthorizationRequests` may do nothing
 * else. Redirect URIs stay the registered ones (no `allowUnregisteredRedirectUris`).
 */
export const PUSHED_AUTHORIZATION_REQUESTS = {
  enabled: true,
  requirePushedAuthorizationRequests: false,
  allowUnregisteredRedirectUris: false,
} as const;

/**
 * Discovery's informational members: `ui_locales_supported` names the languages of the sign-in
 * pages (the files of views/locales/, docs/languages.md), which `ui_locales` chooses among.
 */
export const DISCOVERY_EXTRAS: Configuration['discovery'] = {
  claim_types_supported: ['normal'],
  ui_locales_supported: [...LANGUAGES],
};
