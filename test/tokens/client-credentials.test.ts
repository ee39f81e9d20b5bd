import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';

describe('client credentials → RFC 9068 access tokens', () => {
  let lock: RunningLock;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  const token = (form: Record<string, string>, secret = SECRET, clientId = 'reporting-service') =>
    postForm(`${lock.issuer}/token`, { grant_type: 'client_credentials', ...form }, [clientId, secret]);

  before(async () => {
    lock = await startLock({ config: tokenConfig });
    jwks = createRemoteJWKSet(new URL(`${lock.issuer}/jwks`));
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('issues an ES256 at+jwt with roles filtered to the API and the role claim', async () => {
    const response = await token({ resource: 'https://db-api.example.com', scope: 'read write' });
    assert.equal(response.status, 200);
    assert.equal(response.body.token_type, 'Bearer');
    const accessToken = response.body.access_token as string;
    const { payload, protectedHeader } = await jwtVerify(accessToken, jwks, {
      issuer: lock.issuer,
      audience: 'https://db-api.example.com',
      typ: 'at+jwt',
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, 'reporting-service');
    assert.equal(payload.client_id, 'reporting-service');
    assert.equal(payload.scope, 'read write');
    // The client holds app_readonly and app_readwrite; the resource's order puts app_readwrite first.
    assert.deepEqual(payload.roles, ['app_readwrite', 'app_readonly']);
    assert.equal(payload.role, 'app_readwrite');
    assert.equal(payload.exp! - payload.iat!, 300);
    assert.equal(typeof payload.jti, 'string');
  });

  it('signs with the algorithm and lifetime each resource names', async () => {
    const rs = await token({ resource: 'https://rs-api.example.com' });
    assert.equal(decodeProtectedHeader(rs.body.access_token as string).alg, 'RS256');
    const rsClaims = (
      await jwtVerify(rs.body.access_token as string, jwks, { audience: 'https://rs-api.example.com' })
    ).payload;
    assert.equal(rsClaims.exp! - rsClaims.iat!, 120);
    assert.deepEqual(rsClaims.roles, ['app_readonly']);
    assert.equal(rsClaims.role, undefined, 'no roleClaim configured, so none in the token');

    const ed = await token({ resource: 'https://ed-api.example.com' });
    const { payload, protectedHeader } = await jwtVerify(ed.body.access_token as string, jwks, {
      audience: 'https://ed-api.example.com',
    });
    assert.equal(protectedHeader.alg, 'EdDSA');
    assert.deepEqual(payload.roles, [], 'the client holds none of the roles this API accepts');
    assert.equal(payload.role, 'nobody', 'so the role claim falls back to defaultRole');
  });

  it('uses the only resource of a single-resource client when none is named', async () => {
    const response = await token({}, SECRET, 'single-api-service');
    assert.equal(response.status, 200);
    const { payload } = await jwtVerify(response.body.access_token as string, jwks, {
      audience: 'https://ed-api.example.com',
    });
    assert.deepEqual(payload.roles, ['app_admin']);
    assert.equal(payload.role, 'app_admin');
  });

  it('answers RFC 6749 errors: invalid_client, invalid_target, invalid_scope', async () => {
    const wrongSecret = await token({ resource: 'https://db-api.example.com' }, 'not-the-secret-at-all');
    assert.equal(wrongSecret.status, 401);
    assert.equal(wrongSecret.body.error, 'invalid_client');

    const unknownClient = await token({ resource: 'https://db-api.example.com' }, SECRET, 'nobody-knows-me');
    assert.equal(unknownClient.status, 401);
    assert.equal(unknownClient.body.error, 'invalid_client');

    const unknownResource = await token({ resource: 'https://elsewhere.example.com' });
    assert.equal(unknownResource.status, 400);
    assert.equal(unknownResource.body.error, 'invalid_target');

    const notAllowed = await token({ resource: 'https://db-api.example.com' }, SECRET, 'single-api-service');
    assert.equal(notAllowed.body.error, 'invalid_target');

    const badScope = await token({ resource: 'https://db-api.example.com', scope: 'delete' });
    assert.equal(badScope.status, 400);
    assert.equal(badScope.body.error, 'invalid_scope');

    const badGrant = await token({ grant_type: 'password', username: 'x', password: 'y' });
    assert.equal(badGrant.status, 400);
    assert.equal(badGrant.body.error, 'unsupported_grant_type');
  });

  it('offers token exchange only while a client is configured for it', async () => {
    const exchange = 'urn:ietf:params:oauth:grant-type:token-exchange';
    const discovery = await (await fetch(`${lock.issuer}/.well-known/openid-configuration`)).json();
    assert.ok(discovery.grant_types_supported.includes('client_credentials'));
    assert.ok(!discovery.grant_types_supported.includes(exchange));
    const refused = await token({ grant_type: exchange, subject_token: 'x' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'unsupported_grant_type');
  });
});
