/**
 * The ceiling Lock's token path is compared with: oidc-provider on its own, in memory, with the
 * same clients, resources, claim shape and kinds of keys as the benchmark gives Lock, and nothing
 * else (no database, no catalog, no middleware of Lock's). Run by bench/run.ts as a child process.
 *
 * Its web clients sign in as Lock's do (authorization code with PKCE, then rotating refreshes), but
 * every interaction is approved at once for the benchmark's user: no login page, no password. What
 * it stores it keeps in maps (bench/lib/bare-adapter.ts).
 *
 * Environment: PORT, ISSUER, BENCH_CLIENT_SECRET.
 */
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';
import { bareAdapter } from './lib/bare-adapter.ts';
import {
  ACCESS_TOKEN_TTL,
  CLIENT_ID,
  CLIENT_SECRET_ENV,
  ROLE_CLAIMS,
  resourceFor,
  SCOPES,
  SIGNING_ALGS,
  type SigningAlg,
  USERNAME,
  WARM_UP_CLIENT_ID,
  WEB_CLIENT_ID,
  WEB_ES256_CLIENT_ID,
  WEB_REDIRECT_URI,
} from './lib/workload.ts';

const port = Number(process.env.PORT);
const issuer = process.env.ISSUER ?? `http://127.0.0.1:${port}`;
const clientSecret = process.env[CLIENT_SECRET_ENV];
if (!clientSecret || !Number.isInteger(port)) throw new Error(`PORT and ${CLIENT_SECRET_ENV} are required`);

async function privateJwk(alg: SigningAlg): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'RS256' ? { modulusLength: 2048 } : alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  const jwk = await exportJWK(privateKey);
  // A thumbprint kid, as Lock's: the same header, so the same token size.
  return { ...jwk, kid: await calculateJwkThumbprint(jwk, 'sha256'), alg, use: 'sig' };
}

const algOfResource = new Map(SIGNING_ALGS.map((alg) => [resourceFor(alg), alg]));

const webClient = (client_id: string, idTokenSigningAlg?: SigningAlg): ClientMetadata => ({
  client_id,
  client_secret: clientSecret,
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: [WEB_REDIRECT_URI],
  token_endpoint_auth_method: 'client_secret_basic',
  ...(idTokenSigningAlg && { id_token_signed_response_alg: idTokenSigningAlg }),
});

const configuration: Configuration = {
  clients: [
    ...[CLIENT_ID, WARM_UP_CLIENT_ID].map(
      (client_id): ClientMetadata => ({
        client_id,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    ),
    webClient(WEB_CLIENT_ID),
    webClient(WEB_ES256_CLIENT_ID, 'ES256'),
  ],
  adapter: bareAdapter(),
  jwks: { keys: (await Promise.all(SIGNING_ALGS.map(privateJwk))) as never },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        const alg = algOfResource.get(indicator);
        if (!alg) throw new Error(`unknown resource ${indicator}`);
        return {
          audience: indicator,
          scope: SCOPES.join(' '),
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        };
      },
    },
  },
  extraTokenClaims: () => ({ ...ROLE_CLAIMS, roles: [...ROLE_CLAIMS.roles] }),
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  // As Lock: a web client allowed the refresh_token grant gets a refresh token, rotated on each use.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
};

const provider = new Provider(issuer, configuration);
// Every interaction approved at once: the benchmark's user, signed in, consenting to what was asked.
provider.use(async (ctx, next) => {
  if (!ctx.path.startsWith('/interaction/')) return next();
  const { params } = await provider.interactionDetails(ctx.req, ctx.res);
  const grant = new provider.Grant({ accountId: USERNAME, clientId: String(params.client_id) });
  grant.addOIDCScope(String(params.scope));
  if (typeof params.resource === 'string') grant.addResourceScope(params.resource, SCOPES.join(' '));
  const result = { login: { accountId: USERNAME }, consent: { grantId: await grant.save() } };
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.respond = false;
});
provider.listen(port, '127.0.0.1');
// Nothing to drain; exiting normally (not by the signal) lets --cpu-prof and the like write their files.
process.on('SIGTERM', () => process.exit(0));
