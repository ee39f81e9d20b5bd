import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import pg from 'pg';
import { type RunningApi, startApi } from '../../examples/postgres-api/src/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { sambaAd } from '../helpers/directories.ts';
import { DpopKey, dpopTokenWithNonce } from '../helpers/dpop.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { API, appRolesAndApi, CALLBACK, signIn, webAppClient } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const OTHER_API = 'https://other-api.example.com';
const SECRET = 'postgres-api-secret-0123456789';
const READER = { username: 'rita', password: 'a local reader password' };
const SCHEMA = new URL('../../examples/postgres-api/schema.sql', import.meta.url);
const ROLES = ['api_authenticator', 'app_admin', 'app_readwrite', 'app_readonly'];

const directory = sambaAd();

/**
 * AD groups as the connector reports them (cn, all levels through AD's in-chain rule): alice is
 * in all-staff only through developers ⊂ engineering ⊂ all-staff; bob is in admins; zoe is in
 * no mapped group, so her token carries the resource's defaultRole, which the API must refuse.
 */
const lockConfig = () => `
${appRolesAndApi('ES256')}
  - { id: ${OTHER_API}, scopes: [read], roles: [app_readonly], roleClaim: role }
clients:
${webAppClient({ secret: SECRET, refreshTokens: false })}
  - clientId: reporting-service
    clientSecret: ${SECRET}
    grantTypes: [client_credentials]
    roles: [app_readonly]
    resources: [${API}, ${OTHER_API}]
connectors:
  - ${JSON.stringify({ id: 'corp-ad', type: 'ldap', name: 'Corporate directory', config: directory.connectorConfig() })}
  - { id: local, type: local, name: Lock account }
roleMappings:
  - { connector: corp-ad, group: all-staff, roles: [app_readwrite] }
  - { connector: corp-ad, group: admins, roles: [app_admin] }
  - { connector: local, group: auditors, roles: [app_readonly] }
users:
  - { username: ${READER.username}, password: "${READER.password}", groups: [auditors] }
`;

interface ApiAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & {
    data?: Array<{ id: string; owner: string; content: string; classification: string }>;
    postgres?: { code: string; message: string };
  };
}

describe('examples/postgres-api: a PostgreSQL API secured by Lock (AD sign-in, roles, RLS)', () => {
  let lock: RunningLock;
  let database: TestDatabase;
  let api: RunningApi;
  let dpopApi: RunningApi;
  let authenticatorUrl: string;
  /** Set by the tests in order: alice's access token and the row she creates. */
  let aliceToken = '';
  let aliceRow = '';

  before(async () => {
    database = await createTestDatabase({ migrated: false });
    await database.pool.query(await readFile(SCHEMA, 'utf8'));
    await database.pool.query(await readFile(SCHEMA, 'utf8')); // idempotent: a second run changes nothing
    const password = randomBytes(18).toString('hex');
    await database.pool.query(`ALTER ROLE api_authenticator PASSWORD '${password}'`);
    const url = new URL(database.url);
    url.username = 'api_authenticator';
    url.password = password;
    authenticatorUrl = url.toString();
    // Seeded as the owner (row-level security does not apply to it): another subject's rows.
    await database.pool.query(
      `INSERT INTO api.users (username, email) VALUES ('alice', 'alice@example.test'), ('bob', 'bob@example.test');
       INSERT INTO api.sensitive_data (owner, content, classification)
       VALUES ('someone-else', 'their salary review', 'restricted'), ('someone-else', 'published figures', 'public')`,
    );
    lock = await startLock({ config: lockConfig() });
    api = await startApi({ issuer: lock.issuer, audience: API, databaseUrl: authenticatorUrl });
    // The same API configured for DPoP only (API_REQUIRE_DPOP=true), with nonces (RFC 9449 §9).
    dpopApi = await startApi({
      issuer: lock.issuer,
      audience: API,
      databaseUrl: authenticatorUrl,
      requireDpop: true,
      dpopNonceLifetime: 60,
    });
  });

  after(async () => {
    await api?.close();
    await dpopApi?.close();
    await lock?.close();
    await lock?.database.drop();
    await directory.close();
    if (!database) return;
    await database.drop();
    // Roles are cluster-wide: they outlive the dropped database unless removed.
    const server = new URL(database.url);
    server.pathname = '/postgres';
    const cluster = new pg.Client(server.toString());
    await cluster.connect();
    await cluster.query(`DROP ROLE IF EXISTS ${ROLES.join(', ')}`);
    await cluster.end();
  });

  /** The real login flow over HTTP: code + PKCE for the API's resource, on Lock's login page. */
  async function signInAs(username: string, password: string): Promise<string> {
    const request = await startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: SECRET },
      { redirect_uri: CALLBACK, scope: 'openid profile read write', resource: API },
    );
    const { landed, html } = await signIn(
      new UserAgent(lock.issuer),
      request.url.toString(),
      username,
      password,
    );
    assert.ok(
      landed?.startsWith(`${CALLBACK}?code=`),
      `${username} did not get a code: ${html.slice(0, 300)}`,
    );
    return (await redeem(request, new URL(landed!))).access_token;
  }

  async function clientCredentials(resource: string): Promise<string> {
    const answer = await postForm(
      `${lock.issuer}/token`,
      { grant_type: 'client_credentials', resource, scope: 'read' },
      ['reporting-service', SECRET],
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.access_token as string;
  }

  async function call(method: string, path: string, token?: string, body?: unknown): Promise<ApiAnswer> {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
  }

  const contents = (answer: ApiAnswer) => (answer.body.data ?? []).map((row) => row.content).sort();

  it('the schema leaves api_authenticator nothing but switching to the three roles', async () => {
    const client = new pg.Client(authenticatorUrl);
    await client.connect();
    try {
      await assert.rejects(client.query('SELECT * FROM api.sensitive_data'), { code: '42501' });
      await assert.rejects(client.query('SET ROLE lock'), {
        code: '42501',
        message: /permission denied to set role "lock"/,
      });
      for (const role of ['app_admin', 'app_readwrite', 'app_readonly']) {
        await client.query(`SET ROLE ${role}`);
        await client.query('RESET ROLE');
      }
      // What the API does per request: role and claims end with the transaction.
      await client.query('BEGIN; SET LOCAL ROLE app_admin');
      await client.query("SELECT set_config('request.jwt.claims', $1, true)", [
        JSON.stringify({ sub: 'someone-else' }),
      ]);
      await client.query('COMMIT');
      const { rows: pooled } = await client.query(
        "SELECT current_user AS role, current_setting('request.jwt.claims', true) AS claims",
      );
      assert.deepEqual(pooled[0], { role: 'api_authenticator', claims: '' });
      // Without claims, the policies match no owner: only unrestricted rows.
      await client.query('SET ROLE app_readwrite');
      const { rows } = await client.query('SELECT content FROM api.sensitive_data');
      assert.deepEqual(
        rows.map((row) => row.content),
        ['published figures'],
      );
    } finally {
      await client.end();
    }
  });

  it('GET /healthz needs no token; the data routes answer 401 Bearer without a good one', async () => {
    assert.equal((await call('GET', '/healthz')).status, 200);

    const missing = await call('GET', '/sensitive-data');
    assert.equal(missing.status, 401);
    assert.equal(
      missing.headers.get('www-authenticate'),
      `Bearer realm="${API}", resource_metadata="${API}/.well-known/oauth-protected-resource"`,
    );

    const garbage = await call('GET', '/sensitive-data', 'not.a.jwt');
    assert.equal(garbage.status, 401);
    assert.match(garbage.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
    assert.equal(garbage.body.error, 'invalid_token');

    const otherAudience = await clientCredentials(OTHER_API);
    assert.equal(decodeJwt(otherAudience).role, 'app_readonly', 'a role this API knows, but not its token');
    const wrongAudience = await call('GET', '/sensitive-data', otherAudience);
    assert.equal(wrongAudience.status, 401);
    assert.match(wrongAudience.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.match(String(wrongAudience.body.message), /aud/);
  });

  it('alice (AD, in all-staff only through nested groups) gets app_readwrite in her token', async () => {
    aliceToken = await signInAs(directory.alice.username, directory.alice.password);
    const claims = decodeJwt(aliceToken);
    assert.equal(claims.role, 'app_readwrite');
    assert.deepEqual(claims.roles, ['app_readwrite']);
    assert.equal(claims.idp, 'corp-ad');
    assert.deepEqual(claims.aud, API);
  });

  it('app_readwrite: reads and writes its own rows; row-level security hides others’ restricted rows', async () => {
    const users = await call('GET', '/users', aliceToken);
    assert.equal(users.status, 200, JSON.stringify(users.body));
    assert.deepEqual(
      (users.body.users as Array<{ username: string }>).map((user) => user.username),
      ['alice', 'bob'],
    );

    const before = await call('GET', '/sensitive-data', aliceToken);
    assert.equal(before.status, 200);
    assert.deepEqual(contents(before), ['published figures'], 'not someone-else’s restricted row');

    const created = await call('POST', '/sensitive-data', aliceToken, {
      content: 'alice’s own secret',
      classification: 'restricted',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.owner, decodeJwt(aliceToken).sub, 'owned by the token’s sub');
    aliceRow = String(created.body.id);
    assert.equal(created.headers.get('location'), `/sensitive-data/${aliceRow}`);

    const afterwards = await call('GET', '/sensitive-data', aliceToken);
    assert.deepEqual(contents(afterwards), ['alice’s own secret', 'published figures']);
  });

  it('app_readwrite: PostgreSQL refuses DELETE (no grant) and rows owned by someone else (policy)', async () => {
    const refused = await call('DELETE', `/sensitive-data/${aliceRow}`, aliceToken);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'forbidden');
    assert.equal(refused.body.postgres?.code, '42501', 'the refusal is PostgreSQL’s, passed on');
    assert.match(refused.body.postgres?.message ?? '', /permission denied for table sensitive_data/);
    const { rows } = await database.pool.query('SELECT 1 FROM api.sensitive_data WHERE id = $1', [aliceRow]);
    assert.equal(rows.length, 1, 'the row is still there');

    const forged = await call('POST', '/sensitive-data', aliceToken, {
      content: 'planted in someone else’s name',
      owner: 'someone-else',
    });
    assert.equal(forged.status, 403, JSON.stringify(forged.body));
    assert.equal(forged.body.postgres?.code, '42501');
    assert.match(forged.body.postgres?.message ?? '', /new row violates row-level security policy/);
  });

  it('invalid input is a 400 that names the field, before any SQL', async () => {
    const empty = await call('POST', '/sensitive-data', aliceToken, {
      content: '',
      classification: 'secret',
    });
    assert.equal(empty.status, 400);
    assert.match(String(empty.body.message), /content: .*; classification: /);
    const badId = await call('DELETE', '/sensitive-data/1%20OR%201=1', aliceToken);
    assert.equal(badId.status, 400);
  });

  it('app_readonly (a local account by group mapping): reads unrestricted rows, PostgreSQL refuses its writes', async () => {
    const token = await signInAs(READER.username, READER.password);
    assert.equal(decodeJwt(token).role, 'app_readonly');
    const read = await call('GET', '/sensitive-data', token);
    assert.equal(read.status, 200);
    assert.deepEqual(contents(read), ['published figures'], 'no restricted row of anyone');
    const write = await call('POST', '/sensitive-data', token, { content: 'a reader writes' });
    assert.equal(write.status, 403);
    assert.equal(write.body.postgres?.code, '42501');
    assert.match(write.body.postgres?.message ?? '', /permission denied for table sensitive_data/);
  });

  it('a client-credentials service with app_readonly: GET works, POST is refused by PostgreSQL', async () => {
    const token = await clientCredentials(API);
    const claims = decodeJwt(token);
    assert.equal(claims.sub, 'reporting-service');
    assert.equal(claims.role, 'app_readonly');
    const read = await call('GET', '/sensitive-data', token);
    assert.equal(read.status, 200);
    assert.deepEqual(contents(read), ['published figures']);
    assert.equal((await call('GET', '/users', token)).status, 200);
    const write = await call('POST', '/sensitive-data', token, { content: 'a service writes' });
    assert.equal(write.status, 403);
    assert.equal(write.body.postgres?.code, '42501');
  });

  it('app_admin (bob, AD admins): sees every row and may delete', async () => {
    const token = await signInAs(directory.bob.username, directory.bob.password);
    assert.equal(decodeJwt(token).role, 'app_admin');
    const read = await call('GET', '/sensitive-data', token);
    assert.deepEqual(contents(read), ['alice’s own secret', 'published figures', 'their salary review']);
    const deleted = await call('DELETE', `/sensitive-data/${aliceRow}`, token);
    assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
    assert.equal((await call('DELETE', `/sensitive-data/${aliceRow}`, token)).status, 404);
  });

  it('a role outside the allowlist (the resource’s defaultRole) is refused before any SQL', async () => {
    const token = await signInAs('zoe', 'Zoe-Passw0rd!');
    assert.equal(decodeJwt(token).role, 'web_anon');
    const answer = await call('GET', '/sensitive-data', token);
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error, 'forbidden');
    assert.match(String(answer.body.message), /"web_anon"/);
    assert.equal(answer.body.postgres, undefined);
  });

  describe('DPoP (RFC 9449): a key-bound token works only with a proof from its key', () => {
    const key = DpopKey.generate('ES256');
    let token = '';

    /** A call to the DPoP-only API with this proof (or none); `scheme` DPoP unless told. */
    async function dpopCall(
      path: string,
      options: { proof?: string; scheme?: string; method?: string; accessToken?: string } = {},
    ): Promise<ApiAnswer> {
      const headers: Record<string, string> = {
        authorization: `${options.scheme ?? 'DPoP'} ${options.accessToken ?? token}`,
      };
      if (options.proof !== undefined) headers.dpop = options.proof;
      const response = await fetch(`${dpopApi.url}${path}`, { method: options.method ?? 'GET', headers });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
    }

    /** The API's current nonce, as a client learns it: from a refused first attempt. */
    async function apiNonce(): Promise<string> {
      const first = await dpopCall('/users', {
        proof: await (await key).proof({ htm: 'GET', htu: `${dpopApi.url}/users`, accessToken: token }),
      });
      assert.equal(first.status, 401);
      assert.equal(first.body.error, 'use_dpop_nonce');
      assert.match(first.headers.get('www-authenticate') ?? '', /^DPoP .*error="use_dpop_nonce"/);
      return first.headers.get('dpop-nonce')!;
    }

    before(async () => {
      const answer = await dpopTokenWithNonce(
        `${lock.issuer}/token`,
        { grant_type: 'client_credentials', resource: API, scope: 'read' },
        await key,
        ['reporting-service', SECRET],
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.token_type, 'DPoP');
      token = answer.body.access_token as string;
      assert.deepEqual(decodeJwt(token).cnf, { jkt: (await key).thumbprint });
    });

    it('a valid proof (with the API’s nonce) gets the data', async () => {
      const nonce = await apiNonce();
      const proof = await (await key).proof({
        htm: 'GET',
        htu: `${dpopApi.url}/sensitive-data`,
        accessToken: token,
        nonce,
      });
      const answer = await dpopCall('/sensitive-data?limit=10', { proof });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(contents(answer), ['published figures']);
    });

    it('a stolen token presented as Bearer is refused, at the DPoP-only API and at the ordinary one', async () => {
      const atDpopApi = await dpopCall('/sensitive-data', { scheme: 'Bearer' });
      assert.equal(atDpopApi.status, 400);
      assert.match(
        atDpopApi.headers.get('www-authenticate') ?? '',
        /^DPoP realm=".*", error="invalid_request", algs="/,
      );
      assert.match(String(atDpopApi.body.message), /only DPoP-bound/);
      const atBearerApi = await call('GET', '/sensitive-data', token);
      assert.equal(atBearerApi.status, 401);
      assert.match(String(atBearerApi.body.message), /bound to a key \(cnf\)/);
    });

    it('a stolen token with a proof from another key is refused', async () => {
      const nonce = await apiNonce();
      const thief = await DpopKey.generate('ES256');
      const proof = await thief.proof({
        htm: 'GET',
        htu: `${dpopApi.url}/sensitive-data`,
        accessToken: token,
        nonce,
      });
      const answer = await dpopCall('/sensitive-data', { proof });
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error, 'invalid_token');
      assert.match(String(answer.body.message), /another key than the token is bound to/);
      assert.match(answer.headers.get('www-authenticate') ?? '', /^DPoP .*error="invalid_token"/);
    });

    it('a replayed proof is refused', async () => {
      const nonce = await apiNonce();
      const proof = await (await key).proof({
        htm: 'GET',
        htu: `${dpopApi.url}/users`,
        accessToken: token,
        nonce,
      });
      assert.equal((await dpopCall('/users', { proof })).status, 200);
      const replay = await dpopCall('/users', { proof });
      assert.equal(replay.status, 401);
      assert.equal(replay.body.error, 'invalid_dpop_proof');
      assert.match(String(replay.body.message), /used before/);
      assert.match(replay.headers.get('www-authenticate') ?? '', /^DPoP .*error="invalid_dpop_proof"/);
    });

    it('a proof for another URL (htu) is refused', async () => {
      const nonce = await apiNonce();
      const proof = await (await key).proof({
        htm: 'GET',
        htu: `${dpopApi.url}/users`,
        accessToken: token,
        nonce,
      });
      const answer = await dpopCall('/sensitive-data', { proof });
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error, 'invalid_dpop_proof');
      assert.match(String(answer.body.message), /htu/);
    });

    it('a proof for another method (htm) is refused', async () => {
      const nonce = await apiNonce();
      const proof = await (await key).proof({
        htm: 'POST',
        htu: `${dpopApi.url}/users`,
        accessToken: token,
        nonce,
      });
      const answer = await dpopCall('/users', { proof });
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error, 'invalid_dpop_proof');
      assert.match(String(answer.body.message), /htm/);
    });

    it('a proof without the nonce the API demands is refused, and the answer carries a fresh nonce', async () => {
      const proof = await (await key).proof({ htm: 'GET', htu: `${dpopApi.url}/users`, accessToken: token });
      const answer = await dpopCall('/users', { proof });
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error, 'use_dpop_nonce');
      assert.ok((answer.headers.get('dpop-nonce') ?? '').length > 20);
      const stale = await (await key).proof({
        htm: 'GET',
        htu: `${dpopApi.url}/users`,
        accessToken: token,
        nonce: 'a-nonce-this-api-never-issued',
      });
      assert.equal((await dpopCall('/users', { proof: stale })).body.error, 'use_dpop_nonce');
    });
  });
});
