/**
 * The ceiling Lock's token path is compared with: oidc-provider on its own, in memory, with the
 * same client, resources, claim shape and kinds of keys as the benchmark gives Lock, and nothing
 * else (no database, no catalog, no middleware of Lock's). Run by bench/run.ts as a child process.
 *
 * Environment: PORT, ISSUER, BENCH_CLIENT_SECRET.
 */
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';
import {
  ACCESS_TOKEN_TTL,
  CLIENT_ID,
  CLIENT_SECRET_ENV,
  ROLE_CLAIMS,
  resourceFor,
  SCOPES,
  SIGNING_ALGS,
  type SigningAlg,
  WARM_UP_CLIENT_ID,
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

const configuration: Configuration = {
  clients: [CLIENT_ID, WARM_UP_CLIENT_ID].map((client_id) => ({
    client_id,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
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
};

new Provider(issuer, configuration).listen(port, '127.0.0.1');
// Nothing to drain; exiting normally (not by the signal) lets --cpu-prof and the like write their files.
process.on('SIGTERM', () => process.exit(0));
