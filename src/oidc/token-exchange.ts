import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { Catalog, Resource } from '../catalog/catalog.ts';
import { TOKEN_EXCHANGE } from '../config/declarative-schema.ts';
import { resourceTokenClaims } from '../roles/resource-claims.ts';

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const PARAMETERS = [
  'subject_token',
  'subject_token_type',
  'requested_token_type',
  'actor_token',
  'actor_token_type',
  'resource',
  'audience',
  'scope',
];
/** Claims of the subject token an exchanged token carries on unchanged. */
const CARRIED_CLAIMS = ['idp', 'auth_time', 'amr', 'acr'] as const;

export interface TokenExchangeOptions {
  catalog: () => Catalog;
  /** Lock's published public keys, to verify JWT subject tokens offline. */
  publicJwks: JSONWebKeySet;
  /** How tokens for a resource are made (format, lifetime, signing key), as for every grant. */
  resourceServerInfo: (resource: Resource) => ResourceServer;
}

/** A Lock access token presented for exchange, whichever its format. */
interface SubjectToken {
  sub: string;
  audiences: string[];
  scopes: string[];
  roles: string[];
  exp: number;
  claims: Record<string, unknown>;
}

/** The claims each exchanged token is minted with, read back by extraTokenClaims. */
const exchangedClaims = new WeakMap<object, Record<string, unknown>>();

/** extraTokenClaims for a token this grant minted (undefined for every other token). */
export function claimsOfExchangedToken(token: object): Record<string, unknown> | undefined {
  return exchangedClaims.get(token);
}

/**
 * RFC 8693 token exchange for gateways: a client whose policy (`tokenExchange.subjectAudiences`)
 * accepts the caller's token gets a token for one of its own `resources`, for the same subject,
 * naming itself in `act`. Scopes and roles can only shrink: both are the subject token's,
 * narrowed to what the target API offers and, for scopes, to what the gateway asks for.
 */
export function registerTokenExchange(
  provider: Provider,
  { catalog, publicJwks, resourceServerInfo }: TokenExchangeOptions,
) {
  const keys = createLocalJWKSet(publicJwks);

  async function subjectToken(value: string): Promise<SubjectToken> {
    if (value.split('.').length === 3) {
      const { payload } = await jwtVerify(value, keys, { issuer: provider.issuer, typ: 'at+jwt' }).catch(
        () => {
          throw new errors.InvalidRequest('subject_token is not a valid access token of this issuer');
        },
      );
      return fromClaims(payload);
    }
    const token = (await provider.AccessToken.find(value)) ?? (await provider.ClientCredentials.find(value));
    if (!token?.isValid)
      throw new errors.InvalidRequest('subject_token is not a valid access token of this issuer');
    if (token.kind === 'AccessToken' && token.grantId && !(await provider.Grant.find(token.grantId)))
      throw new errors.InvalidRequest('subject_token has been revoked');
    return fromClaims({
      ...token.extra,
      sub: (token.kind === 'AccessToken' && token.accountId) || token.clientId,
      aud: token.aud,
      scope: token.scope,
      exp: token.exp,
    });
  }

  provider.registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx: KoaContextWithOIDC) => {
      const params = ctx.oidc.params as Record<string, string | undefined>;
      const gateway = catalog().clients.get(ctx.oidc.client!.clientId);
      if (!gateway?.tokenExchange) throw new errors.UnauthorizedClient('this client may not exchange tokens');
      if (!params.subject_token) throw new errors.InvalidRequest('missing required parameter subject_token');
      if (params.subject_token_type !== ACCESS_TOKEN_TYPE)
        throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
      if (params.requested_token_type !== undefined && params.requested_token_type !== ACCESS_TOKEN_TYPE)
        throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
      if (params.actor_token !== undefined)
        throw new errors.InvalidRequest(
          'actor_token is not supported: the authenticated client is the actor',
        );

      const targetId = params.resource ?? params.audience;
      if (targetId === undefined)
        throw new errors.InvalidTarget('name the target API with resource or audience');
      const target = catalog().resources.get(targetId);
      if (!target || !gateway.resources.includes(targetId))
        throw new errors.InvalidTarget(`this client may not exchange tokens for ${targetId}`);

      const subject = await subjectToken(params.subject_token);
      if (!subject.audiences.some((audience) => gateway.tokenExchange!.subjectAudiences.includes(audience)))
        throw new errors.InvalidRequest("subject_token's audience is not one this client may exchange");

      const offered = subject.scopes.filter((scope) => target.scopes.includes(scope));
      const requested = params.scope === undefined ? offered : params.scope.split(' ').filter(Boolean);
      const widening = requested.filter((scope) => !offered.includes(scope));
      if (widening.length > 0)
        throw new errors.InvalidScope('a token exchange cannot add scopes', widening.join(' '));
      const scope = requested.join(' ');

      const claims: Record<string, unknown> = {
        ...Object.fromEntries(
          CARRIED_CLAIMS.flatMap((name) => (name in subject.claims ? [[name, subject.claims[name]]] : [])),
        ),
        ...resourceTokenClaims(target, {
          sub: subject.sub,
          clientId: gateway.clientId,
          roles: subject.roles,
          scope,
          ...(typeof subject.claims.idp === 'string' && { idp: subject.claims.idp }),
        }),
        act: { sub: gateway.clientId, ...(isObject(subject.claims.act) && { act: subject.claims.act }) },
      };
      const now = Math.floor(Date.now() / 1000);
      const token = new provider.AccessToken({
        accountId: subject.sub,
        client: ctx.oidc.client!,
        gty: TOKEN_EXCHANGE,
        scope,
        // Never outlives the token it was exchanged for.
        expiresIn: Math.max(1, Math.min(target.accessTokenTTL, subject.exp - now)),
        resourceServer: new provider.ResourceServer(target.id, resourceServerInfo(target)),
      } as never);
      exchangedClaims.set(token, claims);
      ctx.oidc.entity('AccessToken', token);
      const accessToken = await token.save();
      ctx.body = {
        access_token: accessToken,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        expires_in: token.expiration,
        ...(scope !== '' && { scope }),
      };
    },
    PARAMETERS,
  );
}

function fromClaims(payload: JWTPayload & Record<string, unknown>): SubjectToken {
  const strings = (value: unknown) =>
    Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  return {
    sub: String(payload.sub),
    audiences: typeof payload.aud === 'string' ? [payload.aud] : strings(payload.aud),
    scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
    roles: strings(payload.roles),
    exp: Number(payload.exp),
    claims: payload,
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
