import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { LANGUAGES } from '../../src/web/i18n.ts';
import { approveDevice } from '../helpers/device-user.ts';
import { DpopKey, dpopTokenRequest } from '../helpers/dpop.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { API, CALLBACK, CLI_CALLBACK, signIn } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const SECRET = 'discovery-secret-0123456789';
const PASSWORD = 'correct horse battery staple';
const OPAQUE_API = 'https://opaque.example.com';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

// private_key_jwt: one key per signing algorithm advertised.
const ASSERTION_KEYS = await Promise.all(
  (['RS256', 'PS256', 'ES256', 'EdDSA'] as const).map(async (alg) => {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    return { alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid: `key-${alg}` } };
  }),
);

const config = `
roles:
  - { name: app_readwrite }
resources:
  - { id: ${API}, scopes: [read], roles: [app_readwrite] }
  - { id: ${OPAQUE_API}, scopes: [read], roles: [app_readwrite], accessTokenFormat: opaque }
clients:
  - clientId: web-app
    clientSecret: ${SECRET}
    firstParty: true
    redirectUris: [${CALLBACK}]
    postLogoutRedirectUris: [https://app.example.com/]
    resources: [${API}]
  - clientId: cli-tool
    public: true
    firstParty: true
    redirectUris: [${CLI_CALLBACK}]
  - { clientId: es-app, clientSecret: ${SECRET}, firstParty: true, redirectUris: [${CALLBACK}], idTokenSigningAlg: ES256 }
  - { clientId: ed-app, clientSecret: ${SECRET}, firstParty: true, redirectUris: [${CALLBACK}], idTokenSigningAlg: EdDSA }
  - clientId: service
    clientSecret: ${SECRET}
    grantTypes: [client_credentials]
    roles: [app_readwrite]
    resources: [${API}, ${OPAQUE_API}]
  - clientId: gateway
    clientSecret: ${SECRET}
    grantTypes: [${TOKEN_EXCHANGE}]
    tokenExchange: { subjectAudiences: [${API}] }
    resources: [${API}]
  - clientId: tv
    public: true
    grantTypes: [${DEVICE_CODE}]
    resources: [${API}]
  - clientId: keyed-service
    tokenEndpointAuthMethod: private_key_jwt
    jwks: ${JSON.stringify({ keys: ASSERTION_KEYS.map((key) => key.publicJwk) })}
    grantTypes: [client_credentials]
    resources: [${API}]
connectors:
  - { id: local, type: local, name: Lock account }
roleMappings:
  - { connector: local, group: editors, roles: [app_readwrite] }
users:
  - { username: alice, email: alice@example.com, name: Alice Liddell, password: "${PASSWORD}", groups: [editors] }
`;

// Each test below proves one or more features end to end; its title is what the maps name.
const PROOF = {
  endpoints: 'the issuer and every endpoint discovery names answer at their URLs',
  codeFlow:
    'a confidential client signs in with code + PKCE S256 (query, client_secret_basic), iss on the callback',
  plainRefused: 'PKCE plain is refused: S256 is the only method',
  formPost: 'response_mode=form_post posts the code to the client, redeemed with client_secret_post',
  fragment: 'response_mode=fragment returns the code in the fragment to a public client (none + PKCE)',
  idToken: 'the ID token is signed RS256 and carries the claims of each scope',
  idTokenAlgs:
    'a client that chooses ES256 or EdDSA gets ID tokens signed so, by a key of jwks_uri (more: id-token-signing-alg.test.ts)',
  publicSubject: 'sub is the same for every client (public subject type)',
  refresh: 'offline_access and refresh_token: the refresh token rotates and gives new tokens',
  clientCredentials: 'client_credentials gives a service a token for its API',
  tokenExchange: 'token exchange gives a gateway a token for the API behind it',
  userinfo: 'userinfo answers with the claims of the access token',
  introspection: 'introspection answers as JSON and as an RS256-signed JWT',
  revocation: 'revocation makes an opaque token inactive',
  endSession: 'end_session shows the sign-out confirmation',
  claimsParameter: 'a claims request parameter is not honoured',
  requestUri: 'a request_uri parameter is refused',
  requestObject: 'a request object (request parameter) is refused',
  par: 'PAR: a pushed authorization request gets a request_uri the authorization endpoint honours (more: par.test.ts)',
  dpop: 'DPoP: the token endpoint demands a nonce, then binds the token to the proof key (ES256, PS256, EdDSA) (more: dpop.test.ts)',
  registrationOff:
    'dynamic client registration is off unless LOCK_REGISTRATION turns it on (on: test/oidc/mcp.test.ts)',
  oauthMetadata: 'RFC 8414: /.well-known/oauth-authorization-server serves the same metadata',
  privateKeyJwt:
    'private_key_jwt: an assertion signed RS256, PS256, ES256 or EdDSA authenticates a client (refusals: private-key-jwt.test.ts)',
  secretJwtRefused: 'client_secret_jwt is refused: an HS256 assertion keyed with the client secret',
  deviceFlow: 'the device grant: the device polls, alice approves at the device page, the device gets tokens',
  backchannelLogout:
    'back-channel logout: signing out at Lock posts the client a signed logout token with the sid of its ID token',
  uiLocales:
    'ui_locales: the sign-in page speaks each language discovery names (more: test/interactions/languages.test.ts)',
} as const;

/** Every discovery member Lock advertises (`key` for URLs, `key: value` otherwise) → its proof. */
const ADVERTISED: Record<string, string> = {
  issuer: PROOF.endpoints,
  authorization_endpoint: PROOF.codeFlow,
  token_endpoint: PROOF.codeFlow,
  jwks_uri: PROOF.idToken,
  userinfo_endpoint: PROOF.userinfo,
  introspection_endpoint: PROOF.introspection,
  revocation_endpoint: PROOF.revocation,
  end_session_endpoint: PROOF.endSession,
  'grant_types_supported: authorization_code': PROOF.codeFlow,
  'grant_types_supported: refresh_token': PROOF.refresh,
  'grant_types_supported: client_credentials': PROOF.clientCredentials,
  [`grant_types_supported: ${TOKEN_EXCHANGE}`]: PROOF.tokenExchange,
  device_authorization_endpoint: PROOF.deviceFlow,
  [`grant_types_supported: ${DEVICE_CODE}`]: PROOF.deviceFlow,
  'response_types_supported: code': PROOF.codeFlow,
  'response_modes_supported: query': PROOF.codeFlow,
  'response_modes_supported: form_post': PROOF.formPost,
  'response_modes_supported: fragment': PROOF.fragment,
  'code_challenge_methods_supported: S256': PROOF.plainRefused,
  'authorization_response_iss_parameter_supported: true': PROOF.codeFlow,
  'token_endpoint_auth_methods_supported: client_secret_basic': PROOF.codeFlow,
  'token_endpoint_auth_methods_supported: client_secret_post': PROOF.formPost,
  'token_endpoint_auth_methods_supported: none': PROOF.fragment,
  'token_endpoint_auth_methods_supported: private_key_jwt': PROOF.privateKeyJwt,
  'token_endpoint_auth_signing_alg_values_supported: RS256': PROOF.privateKeyJwt,
  'token_endpoint_auth_signing_alg_values_supported: PS256': PROOF.privateKeyJwt,
  'token_endpoint_auth_signing_alg_values_supported: ES256': PROOF.privateKeyJwt,
  'token_endpoint_auth_signing_alg_values_supported: EdDSA': PROOF.privateKeyJwt,
  'id_token_signing_alg_values_supported: RS256': PROOF.idToken,
  'id_token_signing_alg_values_supported: ES256': PROOF.idTokenAlgs,
  'id_token_signing_alg_values_supported: EdDSA': PROOF.idTokenAlgs,
  'introspection_signing_alg_values_supported: RS256': PROOF.introspection,
  'scopes_supported: openid': PROOF.idToken,
  'scopes_supported: profile': PROOF.idToken,
  'scopes_supported: email': PROOF.idToken,
  'scopes_supported: groups': PROOF.idToken,
  'scopes_supported: offline_access': PROOF.refresh,
  'claims_supported: sub': PROOF.idToken,
  'claims_supported: roles': PROOF.idToken,
  'claims_supported: idp': PROOF.idToken,
  'claims_supported: amr': PROOF.idToken,
  'claims_supported: name': PROOF.idToken,
  'claims_supported: preferred_username': PROOF.idToken,
  'claims_supported: email': PROOF.idToken,
  // Set by a verification link (test/mail/email-verification.test.ts).
  'claims_supported: email_verified': PROOF.idToken,
  'claims_supported: groups': PROOF.idToken,
  'claims_supported: auth_time': PROOF.idToken,
  'claims_supported: iss': PROOF.idToken,
  'claims_supported: sid': PROOF.backchannelLogout,
  'backchannel_logout_supported: true': PROOF.backchannelLogout,
  'backchannel_logout_session_supported: true': PROOF.backchannelLogout,
  'claim_types_supported: normal': PROOF.idToken,
  'subject_types_supported: public': PROOF.publicSubject,
  'claims_parameter_supported: false': PROOF.claimsParameter,
  pushed_authorization_request_endpoint: PROOF.par,
  'dpop_signing_alg_values_supported: ES256': PROOF.dpop,
  'dpop_signing_alg_values_supported: PS256': PROOF.dpop,
  'dpop_signing_alg_values_supported: EdDSA': PROOF.dpop,
  'request_uri_parameter_supported: false': PROOF.requestUri,
  // One per file of views/locales/: adding a language advertises it, proven by the same test.
  ...Object.fromEntries(LANGUAGES.map((language) => [`ui_locales_supported: ${language}`, PROOF.uiLocales])),
};

/** Members (or `key: value` entries) oidc-provider would advertise for what Lock keeps off → the test that they are off. */
const NOT_ADVERTISED: Record<string, string> = {
  registration_endpoint: PROOF.registrationOff,
  'token_endpoint_auth_methods_supported: client_secret_jwt': PROOF.secretJwtRefused,
  'token_endpoint_auth_signing_alg_values_supported: HS256': PROOF.secretJwtRefused,
  request_parameter_supported: PROOF.requestObject,
  request_object_signing_alg_values_supported: PROOF.requestObject,
};

/** Discovery as `key` (URL members) and `key: value` entries, one per array item. */
function discoveryEntries(document: Record<string, unknown>): string[] {
  return Object.entries(document).flatMap(([key, value]) =>
    Array.isArray(value)
      ? value.map((item) => `${key}: ${item}`)
      : typeof value === 'string'
        ? [key]
        : [`${key}: ${value}`],
  );
}

describe('discovery advertises only what works, each feature proven end to end', () => {
  let lock: RunningLock;
  let discovery: Record<string, unknown>;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  const proven = new Set<string>();
  const proof = (title: string, fn: () => Promise<void>) => {
    proven.add(title);
    it(title, fn);
  };

  // The back-channel logout endpoint of the client `logout-app` (test/oidc/backchannel-logout.test.ts does the rest).
  const logoutTokens: string[] = [];
  const logoutReceiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? '');
      response.writeHead(200).end();
    });
  });

  before(async () => {
    logoutReceiver.listen(0, '127.0.0.1');
    await once(logoutReceiver, 'listening');
    const logoutUri = `http://127.0.0.1:${(logoutReceiver.address() as AddressInfo).port}/logout`;
    lock = await startLock({
      config: config.replace(
        'clients:\n',
        `clients:\n  - { clientId: logout-app, clientSecret: ${SECRET}, firstParty: true, redirectUris: [${CALLBACK}], backchannelLogoutUri: "${logoutUri}", backchannelLogoutSessionRequired: true }\n`,
      ),
    });
    discovery = await (await fetch(`${lock.issuer}/.well-known/openid-configuration`)).json();
    jwks = createRemoteJWKSet(new URL(discovery.jwks_uri as string));
  });
  after(async () => {
    await lock.close();
    logoutReceiver.close();
    await lock.database.drop();
  });

  const endpoint = (name: string) => discovery[name] as string;
  const basic = (clientId: string) => `Basic ${Buffer.from(`${clientId}:${SECRET}`).toString('base64')}`;

  /** Alice signs in at the authorization endpoint; the response as the browser gets it. */
  const authorize = async (params: Record<string, string>) => {
    const verifier = oidc.randomPKCECodeVerifier();
    const url = new URL(endpoint('authorization_endpoint'));
    for (const [name, value] of Object.entries({
      client_id: 'web-app',
      redirect_uri: CALLBACK,
      response_type: 'code',
      scope: 'openid',
      state: 'state-1',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...params,
    }))
      url.searchParams.set(name, value);
    const result = await signIn(new UserAgent(lock.issuer), url.toString(), 'alice', PASSWORD);
    return { ...result, verifier };
  };
  const redeem = (
    code: string,
    verifier: string,
    { auth = 'basic', clientId = 'web-app' }: { auth?: 'basic' | 'post'; clientId?: string } = {},
  ) =>
    postForm(
      endpoint('token_endpoint'),
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: CALLBACK,
        code_verifier: verifier,
        ...(auth === 'post' && { client_id: clientId, client_secret: SECRET }),
      },
      auth === 'basic' ? [clientId, SECRET] : undefined,
    );
  /** A signed-in user's tokens from the query-mode code flow. */
  const userTokens = async (scope: string, extra: Record<string, string> = {}) => {
    const { landed, verifier } = await authorize({ scope, ...extra });
    assert.ok(landed, 'alice lands on the callback');
    const tokens = await redeem(new URL(landed).searchParams.get('code')!, verifier);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    return tokens.body as { access_token: string; refresh_token?: string; id_token: string };
  };
  const serviceToken = async (resource: string) => {
    const response = await postForm(
      endpoint('token_endpoint'),
      { grant_type: 'client_credentials', resource },
      ['service', SECRET],
    );
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.access_token as string;
  };

  it('advertises exactly the features the tests in this file prove, and none it keeps off', () => {
    const entries = discoveryEntries(discovery);
    assert.deepEqual(
      entries.filter((entry) => !(entry in ADVERTISED)),
      [],
      'advertised without a proof',
    );
    assert.deepEqual(
      Object.keys(ADVERTISED).filter((entry) => !entries.includes(entry)),
      [],
      'proven but not advertised',
    );
    for (const title of [...Object.values(ADVERTISED), ...Object.values(NOT_ADVERTISED)])
      assert.ok(proven.has(title), `no test named "${title}"`);
    assert.deepEqual(
      Object.keys(NOT_ADVERTISED).filter((key) => key in discovery || entries.includes(key)),
      [],
      'advertised though off',
    );
  });

  proof(PROOF.endpoints, async () => {
    assert.equal(discovery.issuer, lock.issuer);
    for (const [key, value] of Object.entries(discovery))
      if (typeof value === 'string' && key !== 'issuer')
        assert.ok(value.startsWith(`${lock.issuer}/`), `${key} is on the issuer: ${value}`);
    const keys = (await (await fetch(endpoint('jwks_uri'))).json()) as { keys: Record<string, unknown>[] };
    assert.ok(keys.keys.length > 0);
    for (const key of keys.keys) assert.equal(key.d, undefined, 'public keys only');
  });

  proof(PROOF.codeFlow, async () => {
    const { landed, verifier } = await authorize({});
    assert.ok(landed);
    const callback = new URL(landed);
    assert.equal(callback.origin + callback.pathname, CALLBACK, 'the code comes in the query');
    assert.equal(callback.searchParams.get('state'), 'state-1');
    assert.equal(callback.searchParams.get('iss'), lock.issuer, 'RFC 9207: iss on the callback');
    const tokens = await redeem(callback.searchParams.get('code')!, verifier);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(tokens.body.token_type, 'Bearer');
    assert.ok(tokens.body.id_token);
    const wrongVerifier = await redeem(callback.searchParams.get('code')!, oidc.randomPKCECodeVerifier());
    assert.equal(wrongVerifier.body.error, 'invalid_grant');
  });

  proof(PROOF.plainRefused, async () => {
    const url = new URL(endpoint('authorization_endpoint'));
    for (const [name, value] of Object.entries({
      client_id: 'cli-tool',
      redirect_uri: CLI_CALLBACK,
      response_type: 'code',
      scope: 'openid',
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'plain',
    }))
      url.searchParams.set(name, value);
    const response = await fetch(url, { redirect: 'manual' });
    const location = new URL(response.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
  });

  proof(PROOF.formPost, async () => {
    const { landed, html, verifier } = await authorize({ response_mode: 'form_post' });
    assert.equal(landed, undefined, 'no redirect: a page that posts');
    assert.match(html, new RegExp(`<form method="post" action="${CALLBACK}"`));
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1];
    assert.equal(field('state'), 'state-1');
    assert.equal(field('iss'), lock.issuer);
    const tokens = await redeem(field('code')!, verifier, { auth: 'post' });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  });

  proof(PROOF.fragment, async () => {
    const { landed, verifier } = await authorize({
      client_id: 'cli-tool',
      redirect_uri: CLI_CALLBACK,
      response_mode: 'fragment',
    });
    assert.ok(landed);
    const callback = new URL(landed);
    assert.equal(callback.search, '', 'nothing in the query');
    const fragment = new URLSearchParams(callback.hash.slice(1));
    assert.equal(fragment.get('state'), 'state-1');
    const tokens = await postForm(endpoint('token_endpoint'), {
      grant_type: 'authorization_code',
      client_id: 'cli-tool',
      code: fragment.get('code')!,
      redirect_uri: CLI_CALLBACK,
      code_verifier: verifier,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  });

  proof(PROOF.idToken, async () => {
    // auth_time comes when the client asks for a maximum authentication age (OIDC Core §3.1.2.1).
    const tokens = await userTokens('openid profile email groups', { max_age: '3600' });
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token, jwks, {
      issuer: lock.issuer,
      audience: 'web-app',
    });
    assert.equal(protectedHeader.alg, 'RS256');
    for (const claim of ['sub', 'roles', 'idp', 'amr', 'auth_time', 'iss'])
      assert.ok(claim in payload, `openid: ${claim}`);
    assert.deepEqual(payload.roles, ['app_readwrite']);
    assert.equal(payload.idp, 'local');
    assert.deepEqual(payload.amr, ['pwd']);
    assert.equal(payload.name, 'Alice Liddell', 'profile');
    assert.equal(payload.preferred_username, 'alice', 'profile');
    assert.equal(payload.email, 'alice@example.com', 'email');
    assert.equal(payload.email_verified, false, 'email: alice never confirmed it (docs/email.md)');
    assert.deepEqual(payload.groups, ['editors'], 'groups');
    const bare = decodeJwt((await userTokens('openid')).id_token);
    for (const claim of ['name', 'preferred_username', 'email', 'email_verified', 'groups'])
      assert.equal(bare[claim], undefined, `${claim} only with its scope`);
  });

  proof(PROOF.idTokenAlgs, async () => {
    for (const [clientId, alg] of [
      ['es-app', 'ES256'],
      ['ed-app', 'EdDSA'],
    ] as const) {
      const { landed, verifier } = await authorize({ client_id: clientId });
      assert.ok(landed, `alice lands on the callback of ${clientId}`);
      const tokens = await redeem(new URL(landed).searchParams.get('code')!, verifier, { clientId });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      const { protectedHeader } = await jwtVerify(tokens.body.id_token as string, jwks, {
        issuer: lock.issuer,
        audience: clientId,
        algorithms: [alg],
      });
      assert.equal(protectedHeader.alg, alg);
    }
  });

  proof(PROOF.publicSubject, async () => {
    const web = decodeJwt((await userTokens('openid')).id_token);
    const { landed, verifier } = await authorize({ client_id: 'cli-tool', redirect_uri: CLI_CALLBACK });
    const cli = await postForm(endpoint('token_endpoint'), {
      grant_type: 'authorization_code',
      client_id: 'cli-tool',
      code: new URL(landed!).searchParams.get('code')!,
      redirect_uri: CLI_CALLBACK,
      code_verifier: verifier,
    });
    assert.equal(decodeJwt(cli.body.id_token as string).sub, web.sub);
  });

  proof(PROOF.refresh, async () => {
    const tokens = await userTokens('openid offline_access', { prompt: 'consent' });
    assert.ok(tokens.refresh_token, 'a refresh token');
    const refreshed = await postForm(
      endpoint('token_endpoint'),
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
      ['web-app', SECRET],
    );
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.notEqual(refreshed.body.refresh_token, tokens.refresh_token, 'rotated');
    assert.ok(refreshed.body.id_token && refreshed.body.access_token);
  });

  proof(PROOF.clientCredentials, async () => {
    const { payload } = await jwtVerify(await serviceToken(API), jwks, { audience: API, typ: 'at+jwt' });
    assert.equal(payload.sub, 'service');
    assert.deepEqual(payload.roles, ['app_readwrite']);
  });

  proof(PROOF.tokenExchange, async () => {
    const subject = (await userTokens('openid read', { resource: API })).access_token;
    const response = await postForm(
      endpoint('token_endpoint'),
      {
        grant_type: TOKEN_EXCHANGE,
        subject_token: subject,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        resource: API,
      },
      ['gateway', SECRET],
    );
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const { payload } = await jwtVerify(response.body.access_token as string, jwks, { audience: API });
    assert.deepEqual(payload.act, { sub: 'gateway' });
  });

  proof(PROOF.userinfo, async () => {
    const tokens = await userTokens('openid email');
    const response = await fetch(endpoint('userinfo_endpoint'), {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(response.status, 200);
    const claims = await response.json();
    assert.equal(claims.sub, decodeJwt(tokens.id_token).sub);
    assert.equal(claims.email, 'alice@example.com');
  });

  proof(PROOF.introspection, async () => {
    const token = await serviceToken(OPAQUE_API);
    const json = await postForm(endpoint('introspection_endpoint'), { token }, ['service', SECRET]);
    assert.equal(json.body.active, true);
    assert.equal(json.body.aud, OPAQUE_API);
    const signed = await fetch(endpoint('introspection_endpoint'), {
      method: 'POST',
      headers: {
        authorization: basic('service'),
        accept: 'application/token-introspection+jwt',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }),
    });
    const { protectedHeader, payload } = await jwtVerify(await signed.text(), jwks, { issuer: lock.issuer });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal((payload.token_introspection as { active: boolean }).active, true);
  });

  proof(PROOF.revocation, async () => {
    const token = await serviceToken(OPAQUE_API);
    const revoked = await fetch(endpoint('revocation_endpoint'), {
      method: 'POST',
      headers: { authorization: basic('service'), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    assert.equal(revoked.status, 200);
    const json = await postForm(endpoint('introspection_endpoint'), { token }, ['service', SECRET]);
    assert.deepEqual(json.body, { active: false });
  });

  proof(PROOF.uiLocales, async () => {
    assert.deepEqual(discovery.ui_locales_supported, [...LANGUAGES]);
    for (const language of LANGUAGES) {
      const url = new URL(endpoint('authorization_endpoint'));
      for (const [name, value] of Object.entries({
        client_id: 'web-app',
        redirect_uri: CALLBACK,
        response_type: 'code',
        scope: 'openid',
        code_challenge: 'a'.repeat(43),
        code_challenge_method: 'S256',
        ui_locales: language,
      }))
        url.searchParams.set(name, value);
      const { response } = await new UserAgent(lock.issuer).follow(url.toString());
      const html = await response.text();
      assert.match(html, /name="password"/, `${language}: the sign-in page`);
      assert.match(html, new RegExp(`<html lang="${language}">`));
    }
  });

  proof(PROOF.endSession, async () => {
    const page = await fetch(`${endpoint('end_session_endpoint')}?client_id=web-app`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<form[^>]*method="post"/);
  });

  proof(PROOF.claimsParameter, async () => {
    const tokens = await userTokens('openid', {
      claims: JSON.stringify({ id_token: { email: { essential: true } }, userinfo: { email: null } }),
    });
    assert.equal(decodeJwt(tokens.id_token).email, undefined, 'no email without the email scope');
  });

  proof(PROOF.requestUri, async () => {
    const url = new URL(endpoint('authorization_endpoint'));
    url.searchParams.set('client_id', 'web-app');
    url.searchParams.set('request_uri', 'urn:ietf:params:oauth:request_uri:anything');
    const response = await fetch(url, { redirect: 'manual' });
    assert.notEqual(response.status, 200);
    assert.doesNotMatch(await response.text(), /name="password"/, 'no sign-in page');
  });

  proof(PROOF.requestObject, async () => {
    const request = await new SignJWT({ client_id: 'web-app', response_type: 'code', scope: 'openid' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(SECRET));
    const url = new URL(endpoint('authorization_endpoint'));
    for (const [name, value] of Object.entries({
      client_id: 'web-app',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: CALLBACK,
      request,
    }))
      url.searchParams.set(name, value);
    const response = await fetch(url, { redirect: 'manual' });
    const location = response.headers.get('location');
    assert.ok(location, 'answered at the client');
    assert.equal(new URL(location).searchParams.get('error'), 'request_not_supported');
  });

  proof(PROOF.par, async () => {
    const response = await fetch(endpoint('pushed_authorization_request_endpoint'), {
      method: 'POST',
      headers: { authorization: basic('web-app'), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: 'web-app',
        response_type: 'code',
        scope: 'openid',
        redirect_uri: CALLBACK,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }),
    });
    assert.equal(response.status, 201);
    const { request_uri: requestUri } = await response.json();
    const url = new URL(endpoint('authorization_endpoint'));
    url.searchParams.set('client_id', 'web-app');
    url.searchParams.set('request_uri', requestUri);
    const authorization = await fetch(url, { redirect: 'manual' });
    assert.match(authorization.headers.get('location') ?? '', /\/interaction\//, 'on to the sign-in page');
  });

  proof(PROOF.registrationOff, async () => {
    const response = await fetch(`${lock.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(response.status, 404);
  });

  proof(PROOF.oauthMetadata, async () => {
    const response = await fetch(`${lock.issuer}/.well-known/oauth-authorization-server`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), discovery);
  });

  proof(PROOF.dpop, async () => {
    for (const alg of ['ES256', 'PS256', 'EdDSA'] as const) {
      const key = await DpopKey.generate(alg);
      const form = { grant_type: 'client_credentials', resource: API };
      const first = await dpopTokenRequest(endpoint('token_endpoint'), form, key, {
        basic: ['service', SECRET],
      });
      assert.equal(first.status, 400);
      assert.equal(first.body.error, 'use_dpop_nonce');
      const nonce = first.headers.get('dpop-nonce');
      assert.ok(nonce, 'a DPoP-Nonce to retry with');
      const answer = await dpopTokenRequest(endpoint('token_endpoint'), form, key, {
        basic: ['service', SECRET],
        nonce,
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.token_type, 'DPoP');
      assert.deepEqual(decodeJwt(answer.body.access_token as string).cnf, { jkt: key.thumbprint }, alg);
    }
  });

  proof(PROOF.privateKeyJwt, async () => {
    for (const { alg, privateKey, publicJwk } of ASSERTION_KEYS) {
      const clientAssertion = await new SignJWT({})
        .setProtectedHeader({ alg, kid: publicJwk.kid })
        .setIssuer('keyed-service')
        .setSubject('keyed-service')
        .setAudience(endpoint('token_endpoint'))
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(privateKey);
      const response = await postForm(endpoint('token_endpoint'), {
        grant_type: 'client_credentials',
        resource: API,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: clientAssertion,
      });
      assert.equal(response.status, 200, `${alg}: ${JSON.stringify(response.body)}`);
      const { payload } = await jwtVerify(response.body.access_token as string, jwks, { audience: API });
      assert.equal(payload.sub, 'keyed-service');
    }
  });

  proof(PROOF.deviceFlow, async () => {
    const started = await postForm(endpoint('device_authorization_endpoint'), {
      client_id: 'tv',
      scope: 'openid read',
      resource: API,
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const deviceCode = String(started.body.device_code);
    const poll = () =>
      postForm(endpoint('token_endpoint'), {
        grant_type: DEVICE_CODE,
        device_code: deviceCode,
        client_id: 'tv',
      });
    assert.equal((await poll()).body.error, 'authorization_pending');
    const done = await approveDevice(
      new UserAgent(lock.issuer),
      lock.issuer,
      String(started.body.user_code),
      {
        username: 'alice',
        password: PASSWORD,
      },
    );
    assert.match(done.html, /Your device is signed in/);
    await new Promise((resolve) => setTimeout(resolve, 5100)); // the interval, so as not to be told slow_down
    const tokens = await poll();
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const { payload } = await jwtVerify(String(tokens.body.access_token), jwks, { audience: API });
    assert.equal(payload.client_id, 'tv');
  });

  proof(PROOF.secretJwtRefused, async () => {
    const clientAssertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('service')
      .setSubject('service')
      .setAudience(endpoint('token_endpoint'))
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(SECRET));
    const response = await postForm(endpoint('token_endpoint'), {
      grant_type: 'client_credentials',
      resource: API,
      client_id: 'service',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: clientAssertion,
    });
    assert.equal(response.status, 401, JSON.stringify(response.body));
    assert.equal(response.body.error, 'invalid_client');
  });

  proof(PROOF.backchannelLogout, async () => {
    const agent = new UserAgent(lock.issuer);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = new URL(endpoint('authorization_endpoint'));
    for (const [name, value] of Object.entries({
      client_id: 'logout-app',
      redirect_uri: CALLBACK,
      response_type: 'code',
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }))
      url.searchParams.set(name, value);
    const { landed } = await signIn(agent, url.toString(), 'alice', PASSWORD);
    assert.ok(landed);
    const tokens = await postForm(
      endpoint('token_endpoint'),
      {
        grant_type: 'authorization_code',
        code: new URL(landed).searchParams.get('code')!,
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      },
      ['logout-app', SECRET],
    );
    const idToken = decodeJwt(tokens.body.id_token as string);
    assert.equal(typeof idToken.sid, 'string', 'the ID token names the session');
    const page = await agent.follow(`${endpoint('end_session_endpoint')}?client_id=logout-app`);
    const html = await page.response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!.replaceAll('&amp;', '&');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const confirmed = await agent.request(new URL(action, page.url).toString(), {
      form: { xsrf, logout: 'yes' },
    });
    assert.equal(confirmed.status, 303);
    for (let waited = 0; logoutTokens.length === 0 && waited < 5000; waited += 25)
      await new Promise((resolve) => setTimeout(resolve, 25));
    const { payload, protectedHeader } = await jwtVerify(logoutTokens[0]!, jwks, {
      issuer: lock.issuer,
      audience: 'logout-app',
      typ: 'logout+jwt',
    });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.sid, idToken.sid);
    assert.equal(payload.sub, idToken.sub);
    assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
    assert.equal(payload.nonce, undefined);
  });
});
