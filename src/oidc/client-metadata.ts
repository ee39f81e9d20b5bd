import type { ClientMetadata } from 'oidc-provider';
import type { Client } from '../catalog/catalog.ts';
import { clientAuthMethodOf } from '../model/client-keys.ts';

/** A catalog client in oidc-provider's (RFC 7591) vocabulary. */
export function toClientMetadata(client: Client): ClientMetadata {
  return {
    client_id: client.clientId,
    ...(client.name !== undefined && { client_name: client.name }),
    ...(clientAuthMethodOf(client) === 'private_key_jwt'
      ? {
          token_endpoint_auth_method: 'private_key_jwt',
          // oidc-provider fetches a jwks_uri when an assertion needs it, and caches it (max-age, at least 60 s).
          ...(client.jwks !== undefined && { jwks: client.jwks as NonNullable<ClientMetadata['jwks']> }),
          ...(client.jwksUri !== undefined && { jwks_uri: client.jwksUri }),
          introspection_signed_response_alg: 'RS256',
        }
      : client.public || client.clientSecret === undefined
        ? { token_endpoint_auth_method: 'none' }
        : {
            client_secret: client.clientSecret,
            token_endpoint_auth_method:
              clientAuthMethodOf(client) === 'client_secret_post'
                ? 'client_secret_post'
                : 'client_secret_basic',
            // RFC 9701: introspection answers as a signed JWT when the client asks for one.
            introspection_signed_response_alg: 'RS256',
          }),
    grant_types: [...client.grantTypes],
    response_types: client.grantTypes.includes('authorization_code') ? ['code'] : [],
    redirect_uris: [...client.redirectUris],
    post_logout_redirect_uris: [...client.postLogoutRedirectUris],
    dpop_bound_access_tokens: client.dpopBoundAccessTokens,
    require_pushed_authorization_requests: client.requirePushedAuthorizationRequests,
    // Userinfo and introspection answers stay RS256 (ENABLED_JWA): only the ID token follows the client.
    id_token_signed_response_alg: client.idTokenSigningAlg,
    ...(client.backchannelLogoutUri !== undefined && {
      backchannel_logout_uri: client.backchannelLogoutUri,
      backchannel_logout_session_required: client.backchannelLogoutSessionRequired,
    }),
  };
}
