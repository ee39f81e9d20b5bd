import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { parseDeclarative } from '../../src/admin/declarative/file.ts';
import { MAX_ACT_DEPTH } from '../../src/oidc/token-exchange.ts';
import { findTokenOrigin } from '../../src/oidc/token-origins.ts';
import { findUserByUsername, setUserDisabled, setUserRoles } from '../../src/store/users.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { CALLBACK, signIn } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const SECRET = 'exchange-secret-0123456789';
const PASSWORD = 'correct horse battery staple';
const GATEWAY = 'https://gateway.example.com';
const ORDERS = 'https://orders.example.com';
const BILLING = 'https://billing.example.com';
const EDGE = 'https://edge.example.com';
const RELAY = 'https://relay.example.com';
/** An API whose tokens no gateway may exchange. */
const REPORTS = 'https://reports.example.com';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

const config = `
roles:
  - { name: app_admin }
  - { name: app_readwrite }
  - { name: app_readonly }
resources:
  - { id: ${GATEWAY}, scopes: [read, write], roles: [app_admin, app_readwrite, app_readonly] }
  - id: ${ORDERS}
    scopes: [read, write]
    roles: [app_readwrite, app_readonly]
    roleClaim: role
    defaultRole: web_anon
    signingAlg: ES256
    accessTokenTTL: 120
  - { id: ${BILLING}, scopes: [read], roles: [app_readonly] }
  - { id: ${EDGE}, scopes: [read], roles: [app_readwrite], accessTokenFormat: opaque }
  - { id: ${RELAY}, scopes: [read], roles: [app_readwrite] }
  - { id: ${REPORTS}, scopes: [read], roles: [app_readwrite] }
clients:
  - clientId: web-app
    clientSecret: ${SECRET}
    firstParty: true
    redirectUris: [${CALLBACK}]
    resources: [${GATEWAY}, ${EDGE}, ${RELAY}, ${REPORTS}]
  - clientId: api-gateway
    clientSecret: ${SECRET}
    grantTypes: [${TOKEN_EXCHANGE}]
    tokenExchange: { subjectAudiences: [${GATEWAY}, ${EDGE}] }
    resources: [${ORDERS}]
  - clientId: relay
    clientSecret: ${SECRET}
    grantTypes: [${TOKEN_EXCHANGE}]
    tokenExchange: { subjectAudiences: [${RELAY}] }
    resources: [${RELAY}]
  - clientId: billing-service
    clientSecret: ${SECRET}
    grantTypes: [client_credentials]
    roles: [app_readonly]
    resources: [${BILLING}]
connectors:
  - { id: local, type: local, name: Lock account }
roleMappings:
  - { connector: local, group: editors, roles: [app_readwrite] }
users:
  - { username: alice, password: "${PASSWORD}", groups: [editors], roles: [app_admin] }
  - { username: bob, password: "${PASSWORD}", groups: [editors] }
  - { username: dave, password: "${PASSWORD}", roles: [app_readonly] }
`;

describe('token exchange (RFC 8693) for gateways', () => {
  let lock: RunningLock;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  /** A user's tokens for the gateway (or another API), from a real sign-in, with the scope asked for. */
  let signInFor: (
    scope: string,
    resource?: string,
    username?: string,
  ) => Promise<{ access_token: string; refresh_token?: string }>;
  /** Alice's access token for the gateway (or another API). */
  const userToken = async (scope: string, resource = GATEWAY) =>
    (await signInFor(scope, resource)).access_token;
  const exchange = (form: Record<string, string>, clientId = 'api-gateway') =>
    postForm(
      `${lock.issuer}/token`,
      { grant_type: TOKEN_EXCHANGE, subject_token_type: ACCESS_TOKEN, ...form },
      [clientId, SECRET],
    );

  before(async () => {
    lock = await startLock({ config });
    jwks = createRemoteJWKSet(new URL(`${lock.issuer}/jwks`));
    signInFor = async (scope, resource = GATEWAY, username = 'alice') => {
      const request = await startAuthorization(
        lock.issuer,
        { id: 'web-app', secret: SECRET },
        { redirect_uri: CALLBACK, scope: `openid ${scope}`, resource },
      );
      const result = await signIn(new UserAgent(lock.issuer), request.url.toString(), username, PASSWORD);
      assert.ok(result.landed, `${username} lands on the callback`);
      return redeem(request, new URL(result.landed));
    };
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('gives the gateway a narrower token for the API behind it, naming the gateway in act', async () => {
    const subjectToken = await userToken('read write');
    const subject = (await jwtVerify(subjectToken, jwks, { audience: GATEWAY })).payload;
    assert.deepEqual(subject.roles, ['app_admin', 'app_readwrite']);

    const response = await exchange({ subject_token: subjectToken, resource: ORDERS, scope: 'read' });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.issued_token_type, ACCESS_TOKEN);
    assert.equal(response.body.token_type, 'Bearer');
    assert.equal(response.body.scope, 'read');
    const { payload, protectedHeader } = await jwtVerify(response.body.access_token as string, jwks, {
      issuer: lock.issuer,
      audience: ORDERS,
      typ: 'at+jwt',
    });
    assert.equal(protectedHeader.alg, 'ES256', 'signed as the target API asks');
    assert.equal(payload.sub, subject.sub, 'the same user');
    assert.deepEqual(payload.act, { sub: 'api-gateway' });
    assert.equal(payload.client_id, 'api-gateway');
    assert.equal(payload.scope, 'read');
    assert.deepEqual(payload.roles, ['app_readwrite'], 'app_admin is not a role of the orders API');
    assert.equal(payload.role, 'app_readwrite');
    assert.equal(payload.idp, 'local');
    assert.deepEqual(payload.amr, subject.amr);
    assert.ok(payload.exp! <= subject.exp!, 'never outlives the subject token');

    // The delegation is in the audit log: which gateway acted for whom, towards which API.
    const audited = async () =>
      (
        await lock.database.pool.query(
          `SELECT actor, subject, details FROM audit_events WHERE type = 'token.exchanged'`,
        )
      ).rows;
    for (let attempt = 0; attempt < 50 && (await audited()).length === 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 20)); // written as the response leaves
    assert.deepEqual(await audited(), [
      { actor: 'api-gateway', subject: subject.sub, details: { audience: ORDERS, scope: 'read' } },
    ]);
  });

  it("records a user JWT's origin only when some gateway may exchange tokens for its audience", async () => {
    const gatewayToken = (await jwtVerify(await userToken('read'), jwks)).payload;
    const origin = await findTokenOrigin(lock.database.pool, gatewayToken.jti as string);
    assert.ok(
      origin && 'grantId' in origin,
      'a token for the gateway (a subjectAudience) has its origin recorded',
    );
    assert.equal(origin.accountId, gatewayToken.sub);
    const reportsToken = await userToken('read', REPORTS);
    const reports = (await jwtVerify(reportsToken, jwks, { audience: REPORTS })).payload;
    assert.equal(
      await findTokenOrigin(lock.database.pool, reports.jti as string),
      undefined,
      'a token no gateway may exchange is not recorded',
    );
    const refused = await exchange({ subject_token: reportsToken, resource: ORDERS });
    assert.equal(refused.status, 400, 'and it cannot be exchanged');
  });

  it('lists the grant in discovery while a client is configured for it', async () => {
    const discovery = await (await fetch(`${lock.issuer}/.well-known/openid-configuration`)).json();
    assert.ok(discovery.grant_types_supported.includes('urn:ietf:params:oauth:grant-type:token-exchange'));
  });

  it('exchanges an opaque subject token while it lives, and refuses it once revoked', async () => {
    const opaque = await userToken('read', EDGE);
    assert.equal(opaque.split('.').length, 1, 'the edge API gets opaque tokens');
    const exchanged = await exchange({ subject_token: opaque, resource: ORDERS });
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    const { payload } = await jwtVerify(exchanged.body.access_token as string, jwks, {
      audience: ORDERS,
    });
    assert.deepEqual(payload.act, { sub: 'api-gateway' });
    assert.deepEqual(
      payload.roles,
      ['app_readwrite'],
      "the subject token's roles, narrowed to the orders API",
    );
    assert.equal(payload.scope, 'read');

    const revoked = await fetch(`${lock.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`web-app:${SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: opaque }),
    });
    assert.equal(revoked.status, 200);
    const refused = await exchange({ subject_token: opaque, resource: ORDERS });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_request');
  });

  it('without a scope, keeps the subject scopes the target offers', async () => {
    const response = await exchange({ subject_token: await userToken('read'), audience: ORDERS });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const { payload } = await jwtVerify(response.body.access_token as string, jwks, { audience: ORDERS });
    assert.equal(payload.scope, 'read');
  });

  it('refuses to widen the scope beyond the subject token', async () => {
    const response = await exchange({
      subject_token: await userToken('read'),
      resource: ORDERS,
      scope: 'read write',
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.error, 'invalid_scope');
    assert.match(String(response.body.error_description), /cannot add scopes/);
  });

  it('refuses an audience the policy does not allow this client', async () => {
    const response = await exchange({ subject_token: await userToken('read'), resource: BILLING });
    assert.equal(response.status, 400);
    assert.equal(response.body.error, 'invalid_target');
  });

  it('refuses a subject token meant for another API', async () => {
    const service = await postForm(
      `${lock.issuer}/token`,
      { grant_type: 'client_credentials', resource: BILLING },
      ['billing-service', SECRET],
    );
    assert.equal(service.status, 200);
    const response = await exchange({ subject_token: service.body.access_token as string, resource: ORDERS });
    assert.equal(response.status, 400);
    assert.equal(response.body.error, 'invalid_request');
    assert.match(String(response.body.error_description), /audience/);
  });

  it('refuses a forged or malformed subject token', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ roles: ['app_admin'], scope: 'read write' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: (await exportJWK(publicKey)).x! })
      .setIssuer(lock.issuer)
      .setAudience(GATEWAY)
      .setSubject('mallory')
      .setExpirationTime('5m')
      .sign(privateKey);
    for (const subjectToken of [forged, 'not-a-token']) {
      const response = await exchange({ subject_token: subjectToken, resource: ORDERS });
      assert.equal(response.status, 400);
      assert.equal(response.body.error, 'invalid_request');
    }
  });

  it('refuses a client that may not exchange, and a wrong subject_token_type', async () => {
    const notAllowed = await exchange(
      { subject_token: await userToken('read'), resource: ORDERS },
      'web-app',
    );
    assert.equal(notAllowed.status, 400);
    assert.equal(notAllowed.body.error, 'invalid_request');
    assert.match(String(notAllowed.body.error_description), /grant type is not allowed for this client/);
    const wrongType = await exchange({
      subject_token: await userToken('read'),
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      resource: ORDERS,
    });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.error, 'invalid_request');
  });

  const revoke = (token: string) =>
    fetch(`${lock.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`web-app:${SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }),
    });
  const userId = async (username: string) => (await findUserByUsername(lock.database.pool, username))!.id;

  it('refuses a JWT subject token once its grant is revoked, and every token exchanged from it', async () => {
    const tokens = await signInFor('read', RELAY);
    assert.equal(tokens.access_token.split('.').length, 3, 'a JWT, verified offline');
    const relayed = await exchange({ subject_token: tokens.access_token, resource: RELAY }, 'relay');
    assert.equal(relayed.status, 200, JSON.stringify(relayed.body));
    const chained = relayed.body.access_token as string;

    // Revoking the refresh token revokes the grant (RFC 7009 §2.1): what it issued stops working.
    assert.equal((await revoke(tokens.refresh_token!)).status, 200);
    for (const subjectToken of [tokens.access_token, chained]) {
      const refused = await exchange({ subject_token: subjectToken, resource: RELAY }, 'relay');
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_request');
      assert.match(String(refused.body.error_description), /revoked/);
    }
  });

  it('refuses a subject token whose account was disabled, JWT or opaque', async () => {
    const jwt = (await signInFor('read', GATEWAY, 'bob')).access_token;
    const opaque = (await signInFor('read', EDGE, 'bob')).access_token;
    assert.equal((await exchange({ subject_token: jwt, resource: ORDERS })).status, 200);
    // As `lock config apply` disables a declared user: the account, not its grants.
    await setUserDisabled(lock.database.pool, await userId('bob'), true);
    for (const subjectToken of [jwt, opaque]) {
      const refused = await exchange({ subject_token: subjectToken, resource: ORDERS });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_request');
      assert.match(String(refused.body.error_description), /can no longer sign in/);
    }
  });

  it('carries on only the roles the account still holds', async () => {
    const subjectToken = await signInFor('read', GATEWAY, 'dave');
    const before = await exchange({ subject_token: subjectToken.access_token, resource: ORDERS });
    assert.equal(before.status, 200, JSON.stringify(before.body));
    const roles = async (token: string) => (await jwtVerify(token, jwks, { audience: ORDERS })).payload;
    assert.deepEqual((await roles(before.body.access_token as string)).roles, ['app_readonly']);
    await setUserRoles(lock.database.pool, await userId('dave'), []);
    const after = await exchange({ subject_token: subjectToken.access_token, resource: ORDERS });
    assert.equal(after.status, 200, JSON.stringify(after.body));
    const claims = await roles(after.body.access_token as string);
    assert.deepEqual(claims.roles, [], 'app_readonly was taken away after the subject token was issued');
    assert.equal(claims.role, 'web_anon');
  });

  it(`nests act at most ${MAX_ACT_DEPTH} actors deep`, async () => {
    let subjectToken = await userToken('read', RELAY);
    for (let depth = 1; depth <= MAX_ACT_DEPTH; depth++) {
      const response = await exchange({ subject_token: subjectToken, resource: RELAY }, 'relay');
      assert.equal(response.status, 200, `exchange ${depth}: ${JSON.stringify(response.body)}`);
      subjectToken = response.body.access_token as string;
      const { payload } = await jwtVerify(subjectToken, jwks, { audience: RELAY });
      let act = payload.act as { sub: string; act?: unknown } | undefined;
      for (let level = 0; level < depth; level++) {
        assert.equal(act?.sub, 'relay', `actor ${level + 1} of ${depth}`);
        act = act?.act as typeof act;
      }
      assert.equal(act, undefined, `exactly ${depth} actors`);
    }
    const refused = await exchange({ subject_token: subjectToken, resource: RELAY }, 'relay');
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'invalid_request');
    assert.match(String(refused.body.error_description), new RegExp(`at most ${MAX_ACT_DEPTH}`));
  });

  it('refuses a policy without the grant, and the grant without a policy, naming the field', () => {
    const client = (extra: string) => `clients:\n  - { clientId: gw, clientSecret: ${SECRET}, ${extra} }\n`;
    for (const extra of [
      `grantTypes: [${TOKEN_EXCHANGE}]`,
      `grantTypes: [client_credentials], tokenExchange: { subjectAudiences: [${GATEWAY}] }`,
    ])
      assert.throws(
        () => parseDeclarative(client(extra), 'lock.yaml'),
        /clients\[0\]\.tokenExchange: is required with grant type urn:ietf:params:oauth:grant-type:token-exchange, and only with it/,
      );
  });
});
