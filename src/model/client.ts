import { z } from 'zod';
import { CLIENT_AUTH_METHODS, clientJwksSchema, jwksUriSchema } from './client-keys.ts';
import { redirectUriSchema } from './redirect-uri.ts';
import { absoluteUrl, entityName, evenWithOtherProblems, partial, unique } from './schema-checks.ts';
import { SIGNING_ALGS } from './signing-alg.ts';

/** RFC 8693: a gateway swaps a caller's access token for a narrower one for the API behind it. */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8628: a CLI or TV shows a code; the person signs in and approves on another device. */
export const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  TOKEN_EXCHANGE,
  DEVICE_CODE,
] as const;

const webOrigin = z
  .string()
  .regex(/^https?:\/\/[^/?#\s]+$/, 'must be an origin: scheme://host[:port], no path')
  .transform((value) => new URL(value).origin);

/** An absolute http(s) URL without a fragment (Back-Channel Logout 1.0 §2.2). */
const httpUrl = z
  .url({ message: 'must be an absolute URL' })
  .refine((value) => /^https?:/i.test(value), 'must be an http(s) URL')
  .refine((value) => !value.includes('#'), 'must not contain a fragment');

/** An application that signs people in through Lock or gets tokens for itself. */
export const clientSchema = z
  .strictObject({
    clientId: z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1-128 visible ASCII characters'),
    clientSecret: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
    public: z.boolean().default(false),
    firstParty: z.boolean().default(false),
    name: z.string().max(200).optional(),
    grantTypes: unique(z.enum(GRANT_TYPES), 'grantTypes')
      .min(1)
      .default(['authorization_code', 'refresh_token']),
    redirectUris: unique(redirectUriSchema, 'redirectUris').default([]),
    postLogoutRedirectUris: unique(redirectUriSchema, 'postLogoutRedirectUris').default([]),
    /** Web origins that may call the token, userinfo and revocation endpoints (CORS). */
    allowedOrigins: unique(webOrigin, 'allowedOrigins').default([]),
    /** OIDC Back-Channel Logout 1.0: where Lock POSTs a logout token when a session of this client ends. */
    backchannelLogoutUri: httpUrl.optional(),
    /** The client needs `sid` in logout tokens (Lock sends it whenever the session is known). */
    backchannelLogoutSessionRequired: z.boolean().default(false),
    /** Everyone signing in to this client must use a second factor (TOTP for local accounts). */
    requireMfa: z.boolean().default(false),
    /** Everyone signing in to this client must use a passkey (phishing-resistant; local accounts): docs/passkeys.md. */
    requirePasskey: z.boolean().default(false),
    roles: unique(entityName, 'roles').default([]),
    resources: unique(absoluteUrl, 'resources').default([]),
    /** APIs whose tokens this client may introspect besides its own (a gateway in front of them). */
    introspects: unique(absoluteUrl, 'introspects').default([]),
    /** Token exchange policy: the audiences of the callers' tokens it may exchange (for its `resources`). */
    tokenExchange: z
      .strictObject({ subjectAudiences: unique(absoluteUrl, 'subjectAudiences').min(1) })
      .optional(),
    /** How it authenticates (docs/client-authentication.md); unset: none if public, else client_secret_basic. */
    tokenEndpointAuthMethod: z.enum(CLIENT_AUTH_METHODS).optional(),
    /** private_key_jwt: its public keys inline (a JWK set), or where it publishes them. */
    jwks: clientJwksSchema.optional(),
    jwksUri: jwksUriSchema.optional(),
    /** RFC 9449: every access token of this client must be DPoP-bound (a token request without a proof is refused). */
    dpopBoundAccessTokens: z.boolean().default(false),
    /** RFC 9126: authorization requests only through the PAR endpoint (a plain one is refused). */
    requirePushedAuthorizationRequests: z.boolean().default(false),
    /** The JWS algorithm of its ID tokens (OIDC Registration's id_token_signed_response_alg); RS256 unless it asks. */
    idTokenSigningAlg: z.enum(SIGNING_ALGS).default('RS256'),
  })
  .superRefine((parsed, ctx) => {
    // Runs even when a field failed (see evenWithOtherProblems), so each rule reads only fields that parsed.
    const client = partial<{
      public: boolean;
      clientSecret: unknown;
      grantTypes: string[];
      redirectUris: unknown[];
      tokenExchange: unknown;
      backchannelLogoutUri: unknown;
      backchannelLogoutSessionRequired: boolean;
    }>(parsed, { public: 'boolean', grantTypes: 'array', redirectUris: 'array' });
    checkClientAuthentication(parsed, ctx);
    if (client.backchannelLogoutSessionRequired === true && client.backchannelLogoutUri === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['backchannelLogoutSessionRequired'],
        message: 'needs backchannelLogoutUri',
      });
    if (client.public === true && client.clientSecret !== undefined)
      ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'a public client has no secret' });
    if (client.public === false && client.clientSecret === undefined && secretExpected(parsed))
      ctx.addIssue({
        code: 'custom',
        path: ['clientSecret'],
        message: 'is required for a confidential client (or set public: true)',
      });
    if (!client.grantTypes) return;
    for (const grantType of ['client_credentials', TOKEN_EXCHANGE] as const)
      if (client.public === true && client.grantTypes.includes(grantType))
        ctx.addIssue({
          code: 'custom',
          path: ['grantTypes'],
          message: `${grantType} needs a confidential client`,
        });
    if (client.grantTypes.includes(TOKEN_EXCHANGE) !== (client.tokenExchange !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['tokenExchange'],
        message: `is required with grant type ${TOKEN_EXCHANGE}, and only with it`,
      });
    if (client.grantTypes.includes('authorization_code') && client.redirectUris?.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['redirectUris'],
        message: 'at least one is required for authorization_code',
      });
    if (
      client.grantTypes.includes('refresh_token') &&
      !client.grantTypes.includes('authorization_code') &&
      !client.grantTypes.includes(DEVICE_CODE)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['grantTypes'],
        message: `refresh_token needs authorization_code or ${DEVICE_CODE}`,
      });
  }, evenWithOtherProblems);

/** A confidential client has a secret unless it authenticates otherwise (private_key_jwt). */
function secretExpected(parsed: unknown): boolean {
  const { tokenEndpointAuthMethod } = partial<{ tokenEndpointAuthMethod: string }>(parsed, {
    tokenEndpointAuthMethod: 'string',
  });
  return tokenEndpointAuthMethod !== 'private_key_jwt';
}

/** tokenEndpointAuthMethod agrees with `public`, the secret and the keys. */
function checkClientAuthentication(parsed: unknown, ctx: z.RefinementCtx): void {
  const client = partial<{
    public: boolean;
    clientSecret: unknown;
    tokenEndpointAuthMethod: (typeof CLIENT_AUTH_METHODS)[number];
    jwks: unknown;
    jwksUri: unknown;
  }>(parsed, { public: 'boolean', tokenEndpointAuthMethod: 'string' });
  const method = client.tokenEndpointAuthMethod;
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (method === undefined || !CLIENT_AUTH_METHODS.includes(method)) {
    if (client.jwks !== undefined || client.jwksUri !== undefined)
      issue(
        client.jwks !== undefined ? 'jwks' : 'jwksUri',
        'only with tokenEndpointAuthMethod: private_key_jwt',
      );
    return;
  }
  const isPublic = client.public === true;
  if (method === 'none' && !isPublic)
    issue('tokenEndpointAuthMethod', 'none is for public clients (public: true)');
  if (method !== 'none' && isPublic)
    issue('tokenEndpointAuthMethod', 'a public client authenticates with none (it holds no secret or key)');
  if (method === 'private_key_jwt') {
    if (client.clientSecret !== undefined)
      issue('clientSecret', 'a private_key_jwt client has no secret: it proves itself with its keys');
    if ((client.jwks === undefined) === (client.jwksUri === undefined))
      issue('jwks', 'private_key_jwt needs exactly one of jwks and jwksUri');
  } else if (client.jwks !== undefined || client.jwksUri !== undefined)
    issue(
      client.jwks !== undefined ? 'jwks' : 'jwksUri',
      'only with tokenEndpointAuthMethod: private_key_jwt',
    );
}

export type ClientDecl = z.output<typeof clientSchema>;
/** A client as the running server knows it: its secret, if any, in the clear (unsealed). */
export type Client = Omit<ClientDecl, 'clientSecret'> & { clientSecret?: string };
