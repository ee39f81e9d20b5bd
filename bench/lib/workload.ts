import { randomBytes } from 'node:crypto';

/** What both servers are loaded with: one API per signing algorithm and one service calling them. */
export const SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

export const CLIENT_ID = 'bench-service';
/**
 * The same service registered a second time, for warming a fresh server up (bench/lib/warm-up.ts):
 * its tokens count against a client limit of their own, not the measured client's.
 */
export const WARM_UP_CLIENT_ID = 'bench-warm-up';
export const ROLES = ['app_admin', 'app_readwrite', 'app_readonly'] as const;
export const CLIENT_ROLES = ['app_readwrite', 'app_readonly'] as const;
export const SCOPES = ['read', 'write'] as const;
export const REQUESTED_SCOPE = 'read';
export const ACCESS_TOKEN_TTL = 300;

/** The claims Lock derives from the roles above, which the bare provider hands out as they are. */
export const ROLE_CLAIMS = { roles: [...CLIENT_ROLES], role: CLIENT_ROLES[0] };

export const resourceFor = (alg: SigningAlg) => `https://${alg.toLowerCase()}-api.bench.example`;

/** Fresh for every run, passed to children by environment and never printed. */
export const newClientSecret = () => randomBytes(24).toString('base64url');

/** The environment variable Lock's declarative file reads the client secret from. */
export const CLIENT_SECRET_ENV = 'BENCH_CLIENT_SECRET';

/** The login-flow workload: a first-party web app and one local user (password from the environment). */
export const WEB_CLIENT_ID = 'bench-web';
export const WEB_REDIRECT_URI = 'https://app.bench.example/callback';
/** The same web app registered with ES256 ID tokens (the client setting `idTokenSigningAlg`). */
export const WEB_ES256_CLIENT_ID = 'bench-web-es256';
export const USERNAME = 'bench-user';
export const USER_PASSWORD_ENV = 'BENCH_USER_PASSWORD';

/** The web app, as a client of the declarative file (its ID tokens RS256, the default, unless named). */
const webClient = (clientId: string, idTokenSigningAlg?: SigningAlg) => `  - clientId: ${clientId}
    clientSecret: \${${CLIENT_SECRET_ENV}}
    firstParty: true
    redirectUris: [${WEB_REDIRECT_URI}]
    grantTypes: [authorization_code, refresh_token]
    resources: [${resourceFor('ES256')}]${idTokenSigningAlg ? `\n    idTokenSigningAlg: ${idTokenSigningAlg}` : ''}`;

/** Lock's declarative file, in the shape of test/helpers/fixtures.ts; the secret stays off disk. */
export function lockConfigYaml(): string {
  const resources = SIGNING_ALGS.map(
    (alg) => `  - id: ${resourceFor(alg)}
    scopes: [${SCOPES.join(', ')}]
    roles: [${ROLES.join(', ')}]
    roleClaim: role
    accessTokenTTL: ${ACCESS_TOKEN_TTL}
    signingAlg: ${alg}`,
  );
  return `roles:
${ROLES.map((role) => `  - { name: ${role} }`).join('\n')}
resources:
${resources.join('\n')}
clients:
${[CLIENT_ID, WARM_UP_CLIENT_ID]
  .map(
    (clientId) => `  - clientId: ${clientId}
    clientSecret: \${${CLIENT_SECRET_ENV}}
    grantTypes: [client_credentials]
    roles: [${CLIENT_ROLES.join(', ')}]
    resources: [${SIGNING_ALGS.map(resourceFor).join(', ')}]`,
  )
  .join('\n')}
${webClient(WEB_CLIENT_ID)}
${webClient(WEB_ES256_CLIENT_ID, 'ES256')}
users:
  - { username: ${USERNAME}, password: "\${${USER_PASSWORD_ENV}}", roles: [app_readwrite] }
`;
}

export interface HttpRequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export function clientCredentialsRequest(
  alg: SigningAlg,
  clientSecret: string,
  clientId: string = CLIENT_ID,
): HttpRequestSpec {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString(
    'base64',
  );
  return {
    method: 'POST',
    path: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      resource: resourceFor(alg),
      scope: REQUESTED_SCOPE,
    }).toString(),
  };
}

export const jwksRequest: HttpRequestSpec = { method: 'GET', path: '/jwks' };
