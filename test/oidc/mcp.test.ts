import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import pg from 'pg';
import { type RunningApi, startApi } from '../../examples/postgres-api/src/app.ts';
import { findFreePort } from '../../src/store/embedded-postgres.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { readLoginForm, UserAgent } from '../helpers/user-agent.ts';

/**
 * The MCP authorization profile end to end: an MCP client that knows nothing but the API's URL
 * finds Lock through the API's 401 (RFC 9728), reads Lock's RFC 8414 metadata, registers itself
 * (RFC 7591, open registration of a public client with a loopback redirect URI), signs a person
 * in with code + PKCE + `resource` (RFC 8707) and calls the API. Then what the registration
 * policy forbids, refused with RFC 7591's error codes.
 */

const PASSWORD = 'correct horse battery staple';
const OUTSIDE_CAP = 'https://other-api.example.com';
const INITIAL_ACCESS_TOKEN = randomBytes(24).toString('base64url');
const SCHEMA = new URL('../../examples/postgres-api/schema.sql', import.meta.url);
/** This test's own login role for the API (api_authenticator's password belongs to postgres-api.test.ts). */
const API_LOGIN = `mcp_api_${randomBytes(4).toString('hex')}`;
const UNUSED_TTL = 7200;
/** Registrations per window per address: above what the tests before the flood make (16). */
const REGISTRATION_LIMIT = 30;

describe('MCP authorization: discovery from a 401, dynamic registration, code + PKCE + resource', () => {
  let lock: RunningLock;
  let database: TestDatabase;
  let api: RunningApi;
  /** The API's resource id: its own URL, as an MCP client knows it. */
  let apiUrl = '';
  const redirectUri = `http://127.0.0.1:${40_000 + Math.floor(Math.random() * 20_000)}/callback`;

  before(async () => {
    database = await createTestDatabase({ migrated: false });
    await database.pool.query(await readFile(SCHEMA, 'utf8'));
    const password = randomBytes(18).toString('hex');
    await database.pool.query(
      `CREATE ROLE ${API_LOGIN} LOGIN NOINHERIT PASSWORD '${password}';
       GRANT app_readonly, app_readwrite, app_admin TO ${API_LOGIN};
       INSERT INTO api.users (username, email) VALUES ('alice', 'alice@example.test')`,
    );
    const loginUrl = new URL(database.url);
    loginUrl.username = API_LOGIN;
    loginUrl.password = password;
    const port = await findFreePort();
    apiUrl = `http://127.0.0.1:${port}`;
    lock = await startLock({
      config: `
roles:
  - { name: app_readwrite }
resources:
  - { id: "${apiUrl}", scopes: [read, write], roles: [app_readwrite], roleClaim: role, defaultRole: web_anon }
  - { id: ${OUTSIDE_CAP}, scopes: [read], roles: [app_readwrite] }
connectors:
  - { id: local, type: local, name: Lock account }
roleMappings:
  - { connector: local, group: editors, roles: [app_readwrite] }
users:
  - { username: alice, name: Alice Liddell, password: "${PASSWORD}", groups: [editors] }
`,
      env: {
        LOCK_REGISTRATION: 'open',
        LOCK_REGISTRATION_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN,
        LOCK_REGISTRATION_RESOURCES: apiUrl,
        LOCK_REGISTRATION_UNUSED_TTL: String(UNUSED_TTL),
        LOCK_RATE_LIMIT_REGISTRATION: String(REGISTRATION_LIMIT),
        // An hour's window: a file that straddled a minute's boundary would see its count start over.
        LOCK_RATE_LIMIT_WINDOW: '3600',
      },
    });
    api = await startApi({
      issuer: lock.issuer,
      audience: apiUrl,
      databaseUrl: loginUrl.toString(),
      scopes: ['read', 'write'],
      port,
    });
  });

  after(async () => {
    await api?.close();
    await lock?.close();
    await lock?.database.drop();
    if (!database) return;
    await database.drop();
    const server = new URL(database.url);
    server.pathname = '/postgres';
    const cluster = new pg.Client(server.toString());
    await cluster.connect();
    await cluster.query(`DROP ROLE IF EXISTS ${API_LOGIN}`);
    await cluster.end();
  });

  const register = async (metadata: Record<string, unknown>, token?: string) => {
    const response = await fetch(`${lock.issuer}/reg`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token !== undefined && { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(metadata),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  };
  const publicClient = (extra: Record<string, unknown> = {}) => ({
    client_name: 'Example MCP Client',
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...extra,
  });
  const authorizationUrl = async (clientId: string, params: Record<string, string> = {}) => {
    const verifier = oidc.randomPKCECodeVerifier();
    const url = new URL(`${lock.issuer}/auth`);
    for (const [name, value] of Object.entries({
      client_id: clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid read write',
      resource: apiUrl,
      state: 'mcp-state',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...params,
    }))
      url.searchParams.set(name, value);
    return { url: url.toString(), verifier };
  };

  it('an MCP client with no registration discovers Lock from the API, registers, signs alice in and calls the API', async () => {
    // 1. The API refuses the bare call and says where its metadata is (RFC 9728 §5.1).
    const bare = await fetch(`${apiUrl}/users`);
    assert.equal(bare.status, 401);
    const challenge = bare.headers.get('www-authenticate') ?? '';
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    assert.equal(metadataUrl, `${apiUrl}/.well-known/oauth-protected-resource`, challenge);
    assert.ok(challenge.startsWith('Bearer '), challenge);
    assert.doesNotMatch(challenge, /error=/, 'no token sent: no error code (RFC 6750 §3.1)');

    // 2. The protected resource metadata names Lock.
    const resourceMetadata = (await (await fetch(metadataUrl!)).json()) as Record<string, unknown>;
    assert.deepEqual(resourceMetadata, {
      resource: apiUrl,
      authorization_servers: [lock.issuer],
      scopes_supported: ['read', 'write'],
      bearer_methods_supported: ['header'],
    });

    // 3. Lock's RFC 8414 metadata (issuer without a path: /.well-known/oauth-authorization-server).
    const issuer = (resourceMetadata.authorization_servers as string[])[0]!;
    const asMetadata = (await (
      await fetch(`${issuer}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    assert.equal(asMetadata.issuer, issuer);
    assert.deepEqual(asMetadata.code_challenge_methods_supported, ['S256']);
    assert.equal(asMetadata.registration_endpoint, `${issuer}/reg`);
    assert.ok((asMetadata.token_endpoint_auth_methods_supported as string[]).includes('none'));

    // 4. Open registration of a public client with a loopback redirect URI.
    const registered = await register(publicClient());
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const clientId = registered.body.client_id as string;
    assert.ok(clientId);
    assert.equal(registered.body.client_secret, undefined, 'a public client gets no secret');
    assert.equal(registered.body.token_endpoint_auth_method, 'none');
    assert.ok(registered.body.registration_access_token, 'RFC 7592 read access');
    const read = await fetch(registered.body.registration_client_uri as string, {
      headers: { authorization: `Bearer ${registered.body.registration_access_token}` },
    });
    assert.equal(read.status, 200);
    assert.equal(((await read.json()) as { client_id: string }).client_id, clientId);

    // 5. Code + PKCE + resource: alice signs in and consents on a page naming the client, API and scopes.
    const { url, verifier } = await authorizationUrl(clientId);
    const agent = new UserAgent(lock.issuer);
    const loginPage = await agent.follow(url);
    assert.equal(loginPage.left, undefined, 'a registered client is not signed in silently');
    const form = readLoginForm(await loginPage.response.text());
    const consent = await agent.follow(new URL(form.action, loginPage.url).toString(), {
      form: { csrf: form.csrf, username: 'alice', password: PASSWORD },
    });
    const consentHtml = await consent.response.text();
    assert.match(consentHtml, /Allow access\?/, 'a registered client is never first-party');
    assert.match(
      consentHtml,
      /Example MCP Client \(registered itself; not vouched for by your administrator\)/,
    );
    assert.ok(consentHtml.includes(`<code>${apiUrl}</code>`), 'the consent page names the API');
    assert.match(consentHtml, /<code>read<\/code>/);
    assert.match(consentHtml, /<code>write<\/code>/);
    const allow =
      /<form method="post" action="([^"]+)">\s*<input type="hidden" name="csrf" value="([^"]+)">\s*<button[^>]*>Allow</.exec(
        consentHtml,
      )!;
    const landed = await agent.follow(new URL(allow[1]!, consent.url).toString(), {
      form: { csrf: allow[2]! },
    });
    assert.ok(landed.left?.startsWith(`${redirectUri}?`), `lands on the loopback callback: ${landed.left}`);
    const callback = new URL(landed.left!);
    assert.equal(callback.searchParams.get('iss'), lock.issuer);
    const code = callback.searchParams.get('code')!;

    // A registration in use stays: the token below pushes its expiry a whole period back.
    await lock.database.pool.query(
      `UPDATE oidc_payloads SET expires_at = now() + interval '60 seconds' WHERE model = 'Client' AND id = $1`,
      [clientId],
    );
    const tokenResponse = await fetch(`${lock.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: clientId,
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
        resource: apiUrl,
      }),
    });
    const tokens = (await tokenResponse.json()) as Record<string, string>;
    assert.equal(tokenResponse.status, 200, JSON.stringify(tokens));
    const claims = decodeJwt(tokens.access_token!);
    assert.equal(claims.aud, apiUrl);
    assert.equal(claims.client_id, clientId);
    assert.equal(claims.role, 'app_readwrite');

    let secondsLeft = 0;
    for (let attempt = 0; attempt < 50 && secondsLeft < UNUSED_TTL - 60; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      const { rows } = await lock.database.pool.query<{ left: number }>(
        `SELECT extract(epoch FROM expires_at - now())::int AS left FROM oidc_payloads WHERE model = 'Client' AND id = $1`,
        [clientId],
      );
      secondsLeft = rows[0]!.left;
    }
    assert.ok(secondsLeft > UNUSED_TTL - 60, `the token renewed the registration: ${secondsLeft}s left`);

    // 6. The API answers with the token; a forged one gets the challenge with its error.
    const called = await fetch(`${apiUrl}/users`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(called.status, 200);
    assert.deepEqual(
      ((await called.json()) as { users: { username: string }[] }).users.map((user) => user.username),
      ['alice'],
    );
    const forged = await fetch(`${apiUrl}/users`, {
      headers: { authorization: `Bearer ${tokens.access_token!.slice(0, -4)}AAAA` },
    });
    assert.equal(forged.status, 401);
    const forgedChallenge = forged.headers.get('www-authenticate') ?? '';
    assert.match(forgedChallenge, /error="invalid_token"/);
    assert.match(forgedChallenge, /resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource"/);
  });

  it('open registration refuses a redirect URI that is neither loopback nor allowlisted (invalid_redirect_uri)', async () => {
    for (const uri of [
      'https://attacker.example.com/callback',
      'http://localhost:8080/callback',
      'http://127.0.0.1.attacker.example.com/callback',
    ]) {
      const refused = await register(publicClient({ redirect_uris: [uri] }));
      assert.equal(refused.status, 400, uri);
      assert.equal(refused.body.error, 'invalid_redirect_uri', uri);
    }
    const ipv6 = await register(publicClient({ redirect_uris: ['http://[::1]:51004/cb'] }));
    assert.equal(ipv6.status, 201, JSON.stringify(ipv6.body));
  });

  it('a confidential client registers only with the initial access token (invalid_client_metadata without, invalid_token with a wrong one)', async () => {
    const confidential = publicClient({ token_endpoint_auth_method: 'client_secret_basic' });
    const without = await register(confidential);
    assert.equal(without.status, 400);
    assert.equal(without.body.error, 'invalid_client_metadata');
    const wrong = await register(confidential, randomBytes(24).toString('base64url'));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_token');
    const withToken = await register(
      { ...confidential, redirect_uris: ['https://partner.example.com/callback'] },
      INITIAL_ACCESS_TOKEN,
    );
    assert.equal(withToken.status, 201, JSON.stringify(withToken.body));
    assert.ok(withToken.body.client_secret, 'a confidential client gets its secret');
  });

  it('open registration refuses what makes Lock fetch a URL, other grant types and scopes outside the cap', async () => {
    for (const [extra, what] of [
      [{ jwks_uri: 'http://169.254.169.254/keys' }, 'jwks_uri'],
      [{ sector_identifier_uri: 'https://attacker.example.com/s.json' }, 'sector_identifier_uri'],
      [{ backchannel_logout_uri: 'http://10.0.0.1/logout' }, 'backchannel_logout_uri'],
      [{ grant_types: ['client_credentials'], response_types: [] }, 'client_credentials'],
      [{ scope: 'openid read admin' }, 'admin'],
    ] as const) {
      const refused = await register(publicClient(extra));
      assert.equal(refused.status, 400, what);
      assert.equal(refused.body.error, 'invalid_client_metadata', `${what}: ${JSON.stringify(refused.body)}`);
      assert.match(String(refused.body.error_description), new RegExp(what));
    }
  });

  it('a registered client gets no token for a resource outside the cap (invalid_target) and must use PKCE, confidential or not', async () => {
    const { body } = await register(publicClient());
    const clientId = body.client_id as string;
    const agent = new UserAgent(lock.issuer);
    const outside = await agent.follow((await authorizationUrl(clientId, { resource: OUTSIDE_CAP })).url);
    assert.ok(outside.left, 'the error goes back to the client');
    assert.equal(new URL(outside.left).searchParams.get('error'), 'invalid_target');
    // PKCE is forced on every registered client, a confidential one (registered with the token) too.
    const confidential = await register(
      publicClient({ token_endpoint_auth_method: 'client_secret_basic' }),
      INITIAL_ACCESS_TOKEN,
    );
    const withoutPkce = new URL((await authorizationUrl(confidential.body.client_id as string)).url);
    withoutPkce.searchParams.delete('code_challenge');
    withoutPkce.searchParams.delete('code_challenge_method');
    const refused = await agent.follow(withoutPkce.toString());
    assert.ok(refused.left);
    assert.equal(new URL(refused.left).searchParams.get('error'), 'invalid_request');
    assert.match(new URL(refused.left).searchParams.get('error_description') ?? '', /PKCE/);
  });

  it('a registration expires when unused: stored with LOCK_REGISTRATION_UNUSED_TTL, gone once past it', async () => {
    const { body } = await register(publicClient());
    const clientId = body.client_id as string;
    const { rows } = await lock.database.pool.query<{ left: number }>(
      `SELECT extract(epoch FROM expires_at - now())::int AS left FROM oidc_payloads WHERE model = 'Client' AND id = $1`,
      [clientId],
    );
    assert.ok(Math.abs(rows[0]!.left - UNUSED_TTL) < 60, `expires in ${rows[0]!.left}s`);
    const token = await lock.database.pool.query<{ left: number }>(
      `SELECT extract(epoch FROM expires_at - now())::int AS left FROM oidc_payloads
       WHERE model = 'RegistrationAccessToken' AND payload->>'clientId' = $1`,
      [clientId],
    );
    assert.equal(token.rows.length, 1);
    assert.ok(Math.abs(token.rows[0]!.left - UNUSED_TTL) < 60, 'its registration access token expires too');
    // As if the period had passed: the client is unknown at once (and swept by the pruner).
    await lock.database.pool.query(
      `UPDATE oidc_payloads SET expires_at = now() - interval '1 second' WHERE model = 'Client' AND id = $1`,
      [clientId],
    );
    const agent = new UserAgent(lock.issuer);
    const page = await agent.follow((await authorizationUrl(clientId)).url);
    assert.equal(page.left, undefined, 'an unknown client is not redirected to');
    assert.equal(page.response.status, 400);
    assert.match(await page.response.text(), /client is invalid|invalid_client/i);
  });

  it('a flood of registrations from one address is cut off at the rate limit (429)', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, () => register(publicClient())));
    const statuses = answers.map((answer) => answer.status);
    assert.ok(
      statuses.every((status) => status === 201 || status === 429),
      statuses.join(' '),
    );
    const created = statuses.filter((status) => status === 201).length;
    assert.ok(created <= REGISTRATION_LIMIT - 16, `${created} registered past the limit`);
    assert.ok(created > 0, 'the limit is not yet spent when the flood starts');
  });
});
