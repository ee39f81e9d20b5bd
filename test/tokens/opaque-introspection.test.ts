import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { parseDeclarative } from '../../src/admin/declarative/file.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';

const SECRET = 'opaque-secret-0123456789';
const PARTNER_API = 'https://partner-api.example.com';
const GRAPHQL = 'https://graphql.example.com';
const HASURA = 'https://hasura.io/jwt/claims';

const config = `
roles:
  - { name: app_readwrite }
  - { name: app_readonly }
resources:
  - id: ${PARTNER_API}
    scopes: [read]
    roles: [app_readwrite, app_readonly]
    roleClaim: role
    accessTokenFormat: opaque
    accessTokenTTL: 600
  - id: ${GRAPHQL}
    roles: [app_readwrite, app_readonly]
    defaultRole: anonymous
    claimsNamespace:
      claim: ${HASURA}
      claims: { x-hasura-allowed-roles: roles, x-hasura-default-role: role, x-hasura-user-id: sub }
clients:
  - clientId: partner-service
    clientSecret: ${SECRET}
    grantTypes: [client_credentials]
    roles: [app_readonly]
    resources: [${PARTNER_API}, ${GRAPHQL}]
  - clientId: edge-gateway
    clientSecret: ${SECRET}
    grantTypes: [client_credentials]
    introspects: [${PARTNER_API}]
  - clientId: bystander
    clientSecret: ${SECRET}
    grantTypes: [client_credentials]
`;

describe('opaque access tokens, introspection as JSON and as JWT (RFC 9701), namespaced claims', () => {
  let lock: RunningLock;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  const issue = async (resource: string, scope?: string) => {
    const response = await postForm(
      `${lock.issuer}/token`,
      { grant_type: 'client_credentials', resource, ...(scope && { scope }) },
      ['partner-service', SECRET],
    );
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.access_token as string;
  };
  const introspect = async (token: string, clientId: string, accept = 'application/json') => {
    const response = await fetch(`${lock.issuer}/token/introspection`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept,
        authorization: `Basic ${Buffer.from(`${clientId}:${SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }),
    });
    assert.equal(response.status, 200);
    return { type: response.headers.get('content-type') ?? '', text: await response.text() };
  };

  before(async () => {
    lock = await startLock({ config });
    jwks = createRemoteJWKSet(new URL(`${lock.issuer}/jwks`));
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('issues an opaque token for a resource that asks for one, introspected as JSON with its roles', async () => {
    const token = await issue(PARTNER_API, 'read');
    assert.equal(token.split('.').length, 1, 'a reference, not a JWT');
    const answer = JSON.parse((await introspect(token, 'partner-service')).text);
    assert.equal(answer.active, true);
    assert.equal(answer.client_id, 'partner-service');
    assert.equal(answer.aud, PARTNER_API);
    assert.equal(answer.scope, 'read');
    assert.deepEqual(answer.roles, ['app_readonly']);
    assert.equal(answer.role, 'app_readonly');
    assert.equal(answer.exp - answer.iat, 600);
  });

  it('answers a gateway in front of the API with a signed JWT, for the phantom-token pattern', async () => {
    const token = await issue(PARTNER_API);
    const answer = await introspect(token, 'edge-gateway', 'application/token-introspection+jwt');
    assert.match(answer.type, /^application\/token-introspection\+jwt/);
    assert.equal(decodeProtectedHeader(answer.text).typ, 'token-introspection+jwt');
    const { payload } = await jwtVerify(answer.text, jwks, { issuer: lock.issuer });
    const introspection = payload.token_introspection as Record<string, unknown>;
    assert.equal(introspection.active, true);
    assert.deepEqual(introspection.roles, ['app_readonly']);
    assert.equal(introspection.aud, PARTNER_API);
  });

  it('tells a client that neither holds the token nor fronts its API only that it is inactive', async () => {
    const answer = JSON.parse((await introspect(await issue(PARTNER_API), 'bystander')).text);
    assert.deepEqual(answer, { active: false });
  });

  it('introspects a revoked token as inactive', async () => {
    const token = await issue(PARTNER_API);
    // Only the client the token was issued to may revoke it.
    const byOther = await postForm(`${lock.issuer}/token/revocation`, { token }, ['bystander', SECRET]);
    assert.equal(byOther.body.error, 'unauthorized_client');
    const revoked = await fetch(`${lock.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`partner-service:${SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }),
    });
    assert.equal(revoked.status, 200);
    assert.deepEqual(JSON.parse((await introspect(token, 'edge-gateway')).text), { active: false });
  });

  it('copies claims under the namespace a resource names (Hasura)', async () => {
    const { payload } = await jwtVerify(await issue(GRAPHQL), jwks, { audience: GRAPHQL });
    assert.deepEqual(payload[HASURA], {
      'x-hasura-allowed-roles': ['app_readonly'],
      'x-hasura-default-role': 'app_readonly',
      'x-hasura-user-id': 'partner-service',
    });
    assert.deepEqual(payload.roles, ['app_readonly']);
  });

  it('refuses a namespace that would replace a claim Lock sets, naming the field', () => {
    assert.throws(
      () =>
        parseDeclarative(
          `resources:\n  - id: ${GRAPHQL}\n    claimsNamespace: { claim: roles, claims: { r: roles } }\n`,
          'lock.yaml',
        ),
      /resources\[0\]\.claimsNamespace\.claim: must not be a claim Lock sets itself/,
    );
  });
});
