import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken, problemAt } from '../admin/admin-api.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import {
  ALICE_PASSWORD,
  API,
  appRolesAndApi,
  CALLBACK,
  signIn,
  WEB_SECRET,
  webAppClient,
} from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';

/**
 * A client's `idTokenSigningAlg` (RS256 by default, ES256 or EdDSA if it asks): its ID tokens,
 * from the code exchange and from each refresh, are signed so by a key Lock publishes at /jwks;
 * an ES256 ID token is a valid `id_token_hint` at logout; the admin API refuses another value,
 * and so does dynamic registration for `id_token_signed_response_alg`.
 */

const LOGGED_OUT = 'https://app.example.com/';

/** A confidential first-party client of `API` that asks for `alg`, as an item of `clients:`. */
const chosenAlgClient = (clientId: string, alg: string) =>
  [
    `  - clientId: ${clientId}`,
    `    clientSecret: ${WEB_SECRET}`,
    '    firstParty: true',
    `    redirectUris: [${CALLBACK}]`,
    `    postLogoutRedirectUris: ["${LOGGED_OUT}"]`,
    `    resources: [${API}]`,
    `    idTokenSigningAlg: ${alg}`,
  ].join('\n');

const config = `
${appRolesAndApi()}
clients:
${webAppClient()}
${chosenAlgClient('es-app', 'ES256')}
${chosenAlgClient('ed-app', 'EdDSA')}
connectors:
  - { id: local, type: local, name: Lock account }
users:
  - { username: alice, email: alice@example.com, password: "${ALICE_PASSWORD}", roles: [app_admin] }
`;

describe('per-client ID token signing algorithm', () => {
  let lock: RunningLock;
  let api: AdminApi;
  const insecure = { execute: [oidc.allowInsecureRequests] };

  before(async () => {
    lock = await startLock({
      config,
      env: {
        LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
        LOCK_REGISTRATION: 'open',
        LOCK_REGISTRATION_RESOURCES: API,
      },
    });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  /** The relying party pins the algorithm it registered, as openid-client does with this metadata. */
  const relyingParty = (clientId: string, alg: string) =>
    oidc.discovery(
      new URL(lock.issuer),
      clientId,
      { client_secret: WEB_SECRET, id_token_signed_response_alg: alg },
      undefined,
      insecure,
    );

  /** Alice signs in to `config`'s client with code + PKCE; its tokens and her browser. */
  const signInTo = async (config: oidc.Configuration) => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid profile',
      resource: API,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const agent = new UserAgent(lock.issuer);
    const { landed } = await signIn(agent, url.toString(), 'alice', ALICE_PASSWORD);
    assert.ok(landed?.startsWith(`${CALLBACK}?code=`), `landed on ${landed}`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(landed!), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    return { tokens, agent };
  };

  /** The ID token is signed `alg` by a key /jwks publishes for `alg`, and verifies against /jwks. */
  const assertSignedBy = async (idToken: string | undefined, clientId: string, alg: string) => {
    assert.ok(idToken, 'an ID token');
    const header = decodeProtectedHeader(idToken);
    assert.equal(header.alg, alg);
    const published = (await (await fetch(`${lock.issuer}/jwks`)).json()) as JSONWebKeySet;
    const key = published.keys.find((candidate) => candidate.kid === header.kid);
    assert.ok(key, `kid ${header.kid} is published at /jwks`);
    assert.equal(key.alg, alg, 'the key published for that algorithm');
    const { payload } = await jwtVerify(idToken, createLocalJWKSet(published), {
      issuer: lock.issuer,
      audience: clientId,
      algorithms: [alg],
    });
    assert.equal(payload.preferred_username, 'alice');
  };

  for (const [clientId, alg] of [
    ['es-app', 'ES256'],
    ['ed-app', 'EdDSA'],
    ['web-app', 'RS256'],
  ] as const)
    it(`${clientId} (${clientId === 'web-app' ? 'no setting' : alg}): ID tokens from the code and from a refresh are signed ${alg} by a key of /jwks`, async () => {
      const config = await relyingParty(clientId, alg);
      const { tokens } = await signInTo(config);
      await assertSignedBy(tokens.id_token, clientId, alg);
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: API });
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'a rotating refresh');
      await assertSignedBy(refreshed.id_token, clientId, alg);
    });

  it('an ES256 ID token is accepted as id_token_hint at logout; one with a forged signature is not', async () => {
    const config = await relyingParty('es-app', 'ES256');
    const { tokens, agent } = await signInTo(config);
    // The ID token with one claim changed and its signature kept.
    const [header, payload, signature] = tokens.id_token!.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, preferred_username: 'mallory' })).toString(
      'base64url',
    );
    const forged = `${header}.${forgedPayload}.${signature}`;
    const refused = await agent.follow(
      oidc
        .buildEndSessionUrl(config, { id_token_hint: forged, post_logout_redirect_uri: LOGGED_OUT })
        .toString(),
    );
    assert.equal(refused.left, undefined, 'no redirect to the client');
    assert.equal(refused.response.status, 400);
    assert.doesNotMatch(await refused.response.text(), /name="logout"/);

    const logout = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: LOGGED_OUT,
    });
    const confirm = await agent.follow(logout.toString());
    const page = await confirm.response.text();
    assert.equal(confirm.response.status, 200, page);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)![1]!;
    const action = /<form[^>]*action="([^"]+)"/.exec(page)![1]!.replaceAll('&amp;', '&');
    const done = await agent.follow(new URL(action, lock.issuer).toString(), {
      form: { xsrf, logout: 'yes' },
    });
    assert.equal(done.left, LOGGED_OUT, 'the hint named es-app, so its post-logout URI is honoured');
  });

  it('the admin API stores the setting (RS256 when left out) and refuses another value naming the field', async () => {
    const bad = await api('POST', '/clients', {
      body: { clientId: 'hs-app', redirectUris: [CALLBACK], idTokenSigningAlg: 'HS256' },
    });
    assert.equal(bad.status, 422, bad.text);
    assert.ok(problemAt(bad, 'idTokenSigningAlg'), bad.text);
    assert.equal((await api('GET', '/clients/hs-app')).status, 404);

    const created = await api('POST', '/clients', {
      body: { clientId: 'api-ed-app', redirectUris: [CALLBACK], idTokenSigningAlg: 'EdDSA' },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.idTokenSigningAlg, 'EdDSA');
    assert.equal((await api('GET', '/clients/api-ed-app')).body.idTokenSigningAlg, 'EdDSA');

    const plain = await api('POST', '/clients', {
      body: { clientId: 'api-plain', firstParty: true, redirectUris: [CALLBACK], resources: [API] },
    });
    assert.equal(plain.status, 201, plain.text);
    assert.equal(plain.body.idTokenSigningAlg, 'RS256');
    const refused = await api('PATCH', '/clients/api-plain', {
      body: { idTokenSigningAlg: 'RS384' },
      ifMatch: plain.etag!,
    });
    assert.equal(refused.status, 422, refused.text);
    assert.ok(problemAt(refused, 'idTokenSigningAlg'), refused.text);

    // Changed through the API, the setting holds for the next sign-in.
    const patched = await api('PATCH', '/clients/api-plain', {
      body: { idTokenSigningAlg: 'ES256' },
      ifMatch: plain.etag!,
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.idTokenSigningAlg, 'ES256');
    const config = await oidc.discovery(
      new URL(lock.issuer),
      'api-plain',
      { client_secret: plain.body.clientSecret, id_token_signed_response_alg: 'ES256' },
      undefined,
      insecure,
    );
    const { tokens } = await signInTo(config);
    await assertSignedBy(tokens.id_token, 'api-plain', 'ES256');
  });

  it('the clients table itself refuses an algorithm outside the three (CHECK), and defaults to RS256', async () => {
    await assert.rejects(
      lock.database.pool.query(
        "UPDATE clients SET id_token_signing_alg = 'HS256' WHERE client_id = 'es-app'",
      ),
      /check constraint/,
    );
    const { rows } = await lock.database.pool.query(
      `INSERT INTO clients (client_id, grant_types) VALUES ('raw-row', '{client_credentials}')
       RETURNING id_token_signing_alg`,
    );
    assert.equal(rows[0]?.id_token_signing_alg, 'RS256');
    await lock.database.pool.query("DELETE FROM clients WHERE client_id = 'raw-row'");
  });

  it('dynamic registration takes id_token_signed_response_alg among RS256, ES256 and EdDSA, and refuses any other', async () => {
    const register = async (alg: string) => {
      const response = await fetch(`${lock.issuer}/reg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          redirect_uris: ['http://127.0.0.1:8765/callback'],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code'],
          response_types: ['code'],
          id_token_signed_response_alg: alg,
        }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    for (const alg of ['RS256', 'ES256', 'EdDSA']) {
      const registered = await register(alg);
      assert.equal(registered.status, 201, `${alg}: ${JSON.stringify(registered.body)}`);
      assert.equal(registered.body.id_token_signed_response_alg, alg);
    }
    for (const alg of ['HS256', 'PS256', 'RS384', 'none']) {
      const refused = await register(alg);
      assert.equal(refused.status, 400, `${alg}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error, 'invalid_client_metadata', alg);
      assert.match(String(refused.body.error_description), /id_token_signed_response_alg/, alg);
    }
  });
});
