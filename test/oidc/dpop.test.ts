import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { DpopKey, dpopTokenRequest, dpopTokenWithNonce } from '../helpers/dpop.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { signIn } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const SECRET = 'dpop-test-secret-0123456789';
const PASSWORD = 'a long enough password for alice';
const STRICT_API = 'https://strict-api.example.com';
const OPAQUE_API = 'https://opaque-api.example.com';
const CLI_CALLBACK = 'http://127.0.0.1:8765/callback';

const config = `
roles:
  - { name: reader }
resources:
  - { id: ${STRICT_API}, scopes: [read], roles: [reader], requireDpop: true }
  - { id: ${OPAQUE_API}, scopes: [read], roles: [reader], accessTokenFormat: opaque }
clients:
  - clientId: service
    clientSecret: ${SECRET}
    grantTypes: [client_credentials]
    roles: [reader]
    resources: [${STRICT_API}, ${OPAQUE_API}]
  - clientId: bound-service
    clientSecret: ${SECRET}
    grantTypes: [client_credentials]
    dpopBoundAccessTokens: true
    roles: [reader]
    resources: [${OPAQUE_API}]
  - clientId: gateway
    clientSecret: ${SECRET}
    grantTypes: [urn:ietf:params:oauth:grant-type:token-exchange]
    tokenExchange: { subjectAudiences: [${OPAQUE_API}] }
    resources: [${STRICT_API}]
  - clientId: cli-tool
    public: true
    firstParty: true
    grantTypes: [authorization_code, refresh_token]
    redirectUris: [${CLI_CALLBACK}]
    resources: [${STRICT_API}]
connectors:
  - { id: local, type: local, name: Lock account }
users:
  - { username: alice, password: "${PASSWORD}", roles: [reader] }
`;

describe('DPoP at Lock (RFC 9449): nonces, bound tokens, bound refresh tokens, APIs and clients that require it', () => {
  let lock: RunningLock;
  let tokenEndpoint = '';
  before(async () => {
    lock = await startLock({ config });
    tokenEndpoint = `${lock.issuer}/token`;
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const service = ['service', SECRET] as [string, string];

  it('a token request with a proof but no nonce is refused with a DPoP-Nonce to retry with', async () => {
    const key = await DpopKey.generate();
    const form = { grant_type: 'client_credentials', resource: OPAQUE_API, scope: 'read' };
    const first = await dpopTokenRequest(tokenEndpoint, form, key, { basic: service });
    assert.equal(first.status, 400);
    assert.equal(first.body.error, 'use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    assert.ok(nonce);
    const wrong = await dpopTokenRequest(tokenEndpoint, form, key, { basic: service, nonce: `${nonce}x` });
    assert.equal(wrong.body.error, 'use_dpop_nonce', 'a nonce Lock did not issue is refused too');
    const retry = await dpopTokenRequest(tokenEndpoint, form, key, { basic: service, nonce });
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
  });

  it('a nonce from one Lock process is good at another (both derive it from the KEK)', async () => {
    const second = await startLock({ database: lock.database, keysDir: lock.keysDir, config });
    try {
      const key = await DpopKey.generate();
      const form = { grant_type: 'client_credentials', resource: OPAQUE_API, scope: 'read' };
      const first = await dpopTokenRequest(tokenEndpoint, form, key, { basic: service });
      const nonce = first.headers.get('dpop-nonce')!;
      const elsewhere = await dpopTokenRequest(`${second.issuer}/token`, form, key, {
        basic: service,
        nonce,
      });
      assert.equal(elsewhere.status, 200, JSON.stringify(elsewhere.body));
      assert.equal(elsewhere.body.token_type, 'DPoP');
    } finally {
      await second.close();
    }
  });

  it('an opaque DPoP-bound token: introspection shows cnf.jkt and token_type DPoP', async () => {
    const key = await DpopKey.generate('EdDSA');
    const answer = await dpopTokenWithNonce(
      tokenEndpoint,
      { grant_type: 'client_credentials', resource: OPAQUE_API, scope: 'read' },
      key,
      service,
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.token_type, 'DPoP');
    const introspected = await postForm(
      `${lock.issuer}/token/introspection`,
      { token: answer.body.access_token as string },
      service,
    );
    assert.equal(introspected.body.active, true);
    assert.deepEqual(introspected.body.cnf, { jkt: key.thumbprint });
    assert.equal(introspected.body.token_type, 'DPoP');
  });

  it('a resource with requireDpop: Lock refuses it a Bearer token and issues it a bound one', async () => {
    const form = { grant_type: 'client_credentials', resource: STRICT_API, scope: 'read' };
    const bearer = await postForm(tokenEndpoint, form, service);
    assert.equal(bearer.status, 400);
    assert.equal(bearer.body.error, 'invalid_request');
    assert.match(String(bearer.body.error_description), /accepts only DPoP-bound access tokens/);
    const key = await DpopKey.generate();
    const bound = await dpopTokenWithNonce(tokenEndpoint, form, key, service);
    assert.equal(bound.status, 200, JSON.stringify(bound.body));
    assert.deepEqual(decodeJwt(bound.body.access_token as string).cnf, { jkt: key.thumbprint });
  });

  it('token exchange, which issues Bearer tokens, gives none for a resource with requireDpop', async () => {
    const subject = await postForm(
      tokenEndpoint,
      { grant_type: 'client_credentials', resource: OPAQUE_API, scope: 'read' },
      service,
    );
    const exchanged = await postForm(
      tokenEndpoint,
      {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: subject.body.access_token as string,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        resource: STRICT_API,
      },
      ['gateway', SECRET],
    );
    assert.equal(exchanged.status, 400, JSON.stringify(exchanged.body));
    assert.equal(exchanged.body.error, 'invalid_target');
    assert.match(String(exchanged.body.error_description), /accepts only DPoP-bound access tokens/);
  });

  it('a client with dpopBoundAccessTokens gets no token without a proof', async () => {
    const form = { grant_type: 'client_credentials', resource: OPAQUE_API, scope: 'read' };
    const bearer = await postForm(tokenEndpoint, form, ['bound-service', SECRET]);
    assert.equal(bearer.status, 400, JSON.stringify(bearer.body));
    // oidc-provider keeps the detail to its log ("DPoP proof JWT not provided"): invalid_grant, no token.
    assert.equal(bearer.body.error, 'invalid_grant');
    assert.equal(bearer.body.access_token, undefined);
    const bound = await dpopTokenWithNonce(tokenEndpoint, form, await DpopKey.generate(), [
      'bound-service',
      SECRET,
    ]);
    assert.equal(bound.status, 200, JSON.stringify(bound.body));
  });

  it('a public client: code redeemed with a proof, its refresh token works only with the same key', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${lock.issuer}/auth`);
    for (const [name, value] of Object.entries({
      client_id: 'cli-tool',
      response_type: 'code',
      redirect_uri: CLI_CALLBACK,
      scope: 'openid offline_access',
      resource: STRICT_API,
      prompt: 'consent',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }))
      url.searchParams.set(name, value);
    const { landed } = await signIn(new UserAgent(lock.issuer), url.toString(), 'alice', PASSWORD);
    const code = landed ? new URL(landed).searchParams.get('code') : null;
    assert.ok(code, `no code: landed at ${landed}`);

    const key = await DpopKey.generate();
    const tokens = await dpopTokenWithNonce(
      tokenEndpoint,
      {
        grant_type: 'authorization_code',
        client_id: 'cli-tool',
        code,
        redirect_uri: CLI_CALLBACK,
        code_verifier: verifier,
      },
      key,
    );
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(tokens.body.token_type, 'DPoP');
    assert.deepEqual(decodeJwt(tokens.body.access_token as string).cnf, { jkt: key.thumbprint });
    const refreshToken = tokens.body.refresh_token as string;
    assert.ok(refreshToken, 'a refresh token');

    const refresh = { grant_type: 'refresh_token', client_id: 'cli-tool', refresh_token: refreshToken };
    const thief = await dpopTokenWithNonce(tokenEndpoint, refresh, await DpopKey.generate());
    assert.equal(thief.status, 400, 'a stolen refresh token with another key is refused');
    assert.equal(thief.body.error, 'invalid_grant');
    const bearerThief = await postForm(tokenEndpoint, refresh);
    assert.equal(bearerThief.status, 400, 'and without any proof');

    const owner = await dpopTokenWithNonce(tokenEndpoint, refresh, key);
    assert.equal(owner.status, 200, JSON.stringify(owner.body));
    assert.deepEqual(decodeJwt(owner.body.access_token as string).cnf, { jkt: key.thumbprint });
  });
});
