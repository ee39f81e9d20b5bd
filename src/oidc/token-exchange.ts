import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { Catalog, Resource } from '../catalog/catalog.ts';
import { TOKEN_EXCHANGE } from '../model/client.ts';
import { resourceTokenClaims } from '../roles/resource-claims.ts';
import type { Queryable } from '../store/pool.ts';
import { findTokenOrigin, recordTokenOrigin, type TokenOrigin } from './token-origins.ts';

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

/**
 * The most actors a token's `act` chain may name (RFC 8693 §4.1 sets no bound): a gateway behind a
 * gateway behind a gateway… An exchange that would make the chain longer is refused.
 */
export const MAX_ACT_DEPTH = 4;

export interface TokenExchangeOptions {
  catalog: () => Catalog;
  /** Lock's published public keys, to verify JWT subject tokens offline. */
  publicJwks: JSONWebKeySet;
  /** How tokens for a resource are made (format, lifetime, signing key), as for every grant. */
  resourceServerInfo: (resource: Resource) => ResourceServer;
  /** Where token origins are recorded and read (see token-origins.ts). */
  db: Queryable;
  /** The account behind a `sub` with its roles now; undefined when it may no longer sign in. */
  findAccount: (sub: string) => Promise<{ roles: readonly string[] } | undefined>;
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

const INVALID_SUBJECT = 'subject_token is not a valid access token of this issuer';

const exchangeable = new WeakMap<Catalog, ReadonlySet<string>>();

/**
 * The audiences some client's token-exchange policy accepts (`tokenExchange.subjectAudiences`):
 * only a token for one of them can ever be a subject token, so only such tokens need their origin
 * recorded (an INSERT per token otherwise). A policy added later applies to tokens issued after it.
 */
export function exchangeableAudiences(catalog: Catalog): ReadonlySet<string> {
  let audiences = exchangeable.get(catalog);
  if (!audiences) {
    audiences = new Set(
      [...catalog.clients.values()].flatMap((client) => client.tokenExchange?.subjectAudiences ?? []),
    );
    exchangeable.set(catalog, audiences);
  }
  return audiences;
}
const REVOKED_SUBJECT = 'subject_token has been revoked';

/**
 * RFC 8693 token exchange for gateways: a client whose policy (`tokenExchange.subjectAudiences`)
 * accepts the caller's token gets a token for one of its own `resources`, for the same subject,
 * naming itself in `act`. Scopes and roles can only shrink: both are the subject token's,
 * narrowed to what the target API offers and, for scopes, to what the gateway asks for. A subject
 * token is honoured only while what it was issued under lives: the user's grant and account, or
 * the service client.
 */
export function registerTokenExchange(
  provider: Provider,
  { catalog, publicJwks, resourceServerInfo, db, findAccount }: TokenExchangeOptions,
) {
  const keys = createLocalJWKSet(publicJwks);

  /** The token, verified (JWT) or looked up (opaque), with where it comes from. */
  async function readSubjectToken(value: string): Promise<{ subject: SubjectToken; origin?: TokenOrigin }> {
    if (value.split('.').length === 3) {
      const { payload } = await jwtVerify(value, keys, { issuer: provider.issuer, typ: 'at+jwt' }).catch(
        () => {
          throw new errors.InvalidRequest(INVALID_SUBJECT);
        },
      );
      const subject = fromClaims(payload);
      const recorded = typeof payload.jti === 'string' ? await findTokenOrigin(db, payload.jti) : undefined;
      // Client-credentials tokens are not recorded: their subject is the client itself.
      const service = payload.sub === payload.client_id && !('idp' in payload);
      return { subject, origin: recorded ?? (service ? { clientId: subject.sub } : undefined) };
    }
    const token = (await provider.AccessToken.find(value)) ?? (await provider.ClientCredentials.find(value));
    if (!token?.isValid) throw new errors.InvalidRequest(INVALID_SUBJECT);
    const subject = fromClaims({
      ...token.extra,
      sub: (token.kind === 'AccessToken' && token.accountId) || token.clientId,
      aud: token.aud,
      scope: token.scope,
      exp: token.exp,
    });
    if (token.kind === 'ClientCredentials') return { subject, origin: { clientId: token.clientId! } };
    if (token.grantId) return { subject, origin: { grantId: token.grantId, accountId: subject.sub } };
    return { subject, origin: await findTokenOrigin(db, token.jti) };
  }

  /**
   * The roles behind a subject token now; refuses one whose grant was revoked, whose account was
   * disabled, whose client went, or whose origin Lock never recorded.
   */
  async function currentRoles(subject: SubjectToken, origin: TokenOrigin): Promise<readonly string[]> {
    if ('clientId' in origin) {
      const client = catalog().clients.get(origin.clientId);
      if (!client || origin.clientId !== subject.sub) throw new errors.InvalidRequest(REVOKED_SUBJECT);
      return client.roles;
    }
    const grant = await provider.Grant.find(origin.grantId);
    if (!grant || grant.accountId !== subject.sub || origin.accountId !== subject.sub)
      throw new errors.InvalidRequest(REVOKED_SUBJECT);
    const account = await findAccount(subject.sub);
    if (!account) throw new errors.InvalidRequest("subject_token's account can no longer sign in");
    return account.roles;
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
      // Exchanged tokens are Bearer tokens: an API that requires DPoP gets none this way.
      if (target.requireDpop)
        throw new errors.InvalidTarget(
          `${targetId} accepts only DPoP-bound access tokens, which token exchange does not issue`,
        );

      const { subject, origin } = await readSubjectToken(params.subject_token);
      if (!subject.audiences.some((audience) => gateway.tokenExchange!.subjectAudiences.includes(audience)))
        throw new errors.InvalidRequest("subject_token's audience is not one this client may exchange");
      const actors = actorChain(subject.claims.act);
      if (actors.length >= MAX_ACT_DEPTH)
        throw new errors.InvalidRequest(
          `subject_token already names ${actors.length} actors; a token names at most ${MAX_ACT_DEPTH}`,
        );
      if (!origin) throw new errors.InvalidRequest(REVOKED_SUBJECT);
      // Roles the account (or service) holds now: a role taken away since is not carried on.
      const held = new Set(await currentRoles(subject, origin));

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
          roles: subject.roles.filter((role) => held.has(role)),
          scope,
          ...(typeof subject.claims.idp === 'string' && { idp: subject.claims.idp }),
        }),
        act: nestActors([gateway.clientId, ...actors]),
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
      // Its own subject token's origin, so that it too dies with the grant when exchanged again.
      await recordTokenOrigin(db, token.jti!, origin, token.expiration);
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

/** The actors an `act` claim names, most recent first (RFC 8693 §4.1: each nests the one before). */
function actorChain(act: unknown): string[] {
  const actors: string[] = [];
  for (let current = act; isObject(current) && actors.length <= MAX_ACT_DEPTH; current = current.act) {
    if (typeof current.sub !== 'string') break;
    actors.push(current.sub);
  }
  return actors;
}

function nestActors(actors: readonly string[]): Record<string, unknown> {
  return actors.reduceRight<Record<string, unknown> | undefined>(
    (inner, sub) => ({ sub, ...(inner && { act: inner }) }),
    undefined,
  )!;
}
