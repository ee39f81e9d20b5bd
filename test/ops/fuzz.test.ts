import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ADMIN_ROUTES } from '../../src/admin/api/router.ts';
import { ADMIN_PASSWORD, consoleToken } from '../admin/admin-api.ts';
import { accountSignIn, csrfOf } from '../helpers/account-agent.ts';
import { SECRET } from '../helpers/fixtures.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, BOB_PASSWORD, CALLBACK, loginConfig } from '../helpers/login-fixtures.ts';
import { readLoginForm, UserAgent } from '../helpers/user-agent.ts';

/**
 * A seeded, property-based fuzz of every public and admin endpoint: malformed parameters (control
 * characters, unpaired surrogates, broken and overlong percent-encoding, long values), bodies and
 * content types. Each value is put into an otherwise valid request, so that it gets as far into
 * Lock as it can (an interaction row, a lockout query, an adapter lookup, an admin insert). No
 * answer may be a 5xx, and Lock must be ready afterwards.
 */
const SEED = 20_261_207;

/** A string PostgreSQL, JSON or a router might choke on, or an ordinary one. */
const nasty = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('\0', 'alice\0', '\u0001', '\u001b[31m', '\uD800', 'x\uDFFFy', '\u202Eevil', 'ſ', 'K'),
  fc.string({ minLength: 3000, maxLength: 9000, unit: fc.constantFrom('a', 'é', '\0') }),
);

/** A percent-encoded form or query value, sometimes encoded by hand (bytes that are no UTF-8). */
const encoded = fc.oneof(
  nasty.map((value) => encodeURIComponent(value.toWellFormed())),
  nasty.map((value) =>
    [...value].map((char) => `%${(char.charCodeAt(0) & 0xff).toString(16).padStart(2, '0')}`).join(''),
  ),
  fc
    .uint8Array({ maxLength: 12 })
    .map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  fc.constantFrom('%', '%0', '%zz', '%C0%80', '%ED%A0%80', '%00', '%FF%FE', '+', '%2F..%2F', '%E2%80'),
);

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-16le',
  'application/x-www-form-urlencoded; charset=no-such-charset',
  'application/json',
  'application/merge-patch+json',
  'text/plain',
  'multipart/form-data; boundary=x',
  '',
];

interface FuzzRequest {
  method: string;
  path: string;
  query?: string;
  body?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
}

/** `name=value&…` from valid parameters with some replaced or added by fuzzed ones. */
function withFuzzed(valid: Record<string, string>, names: readonly string[]) {
  return fc
    .tuple(
      fc.uniqueArray(fc.constantFrom(...names), { minLength: 1, maxLength: 3 }),
      fc.array(encoded, { minLength: 3, maxLength: 3 }),
    )
    .map(([chosen, values]) => {
      const params = new Map(Object.entries(valid).map(([name, value]) => [name, encodeURIComponent(value)]));
      for (const [index, name] of chosen.entries()) params.set(name, values[index]!);
      return [...params].map(([name, value]) => `${name}=${value}`).join('&');
    });
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('fuzzing the public and admin endpoints', () => {
  let lock: RunningLock;
  let adminToken: string;
  let interaction: { action: string; csrf: string; cookie: string };
  const responses: Array<{ request: FuzzRequest; status: number; text: string }> = [];

  before(async () => {
    lock = await startLock({
      config: `${loginConfig}
  - { username: admin-helper, password: "${ALICE_PASSWORD}" }
`,
      env: {
        LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
        // The fuzz is one address sending a thousand requests: no limit may hide a 500.
        LOCK_RATE_LIMIT_AUTHORIZATION: '0',
        LOCK_RATE_LIMIT_LOGIN: '0',
        LOCK_RATE_LIMIT_TOKEN: '0',
      },
    });
    adminToken = await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD);
    // A live interaction (cookie and CSRF token), so fuzzed sign-ins reach the lockout and the connectors.
    const started = await fetch(
      `${lock.issuer}/auth?client_id=web-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(CALLBACK)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
      { redirect: 'manual' },
    );
    const cookie = started.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const action = `${started.headers.get('location')}/login`;
    const page = await fetch(`${lock.issuer}${started.headers.get('location')}`, { headers: { cookie } });
    interaction = { action, csrf: readLoginForm(await page.text()).csrf, cookie };
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const send = async (request: FuzzRequest, cookie?: string) => {
    const headers: Record<string, string> = { ...request.headers, ...(cookie && { cookie }) };
    if (request.contentType) headers['content-type'] = request.contentType;
    const url = `${lock.issuer}${request.path}${request.query ? `?${request.query}` : ''}`;
    const response = await fetch(url, {
      method: request.method,
      headers,
      redirect: 'manual',
      ...(request.body !== undefined && {
        body: typeof request.body === 'string' ? request.body : Buffer.from(request.body),
      }),
    });
    const text = await response.text();
    responses.push({ request, status: response.status, text: text.slice(0, 300) });
    return response.status;
  };

  const noServerError = async (arbitrary: fc.Arbitrary<FuzzRequest>, numRuns: number, cookie?: string) =>
    fc.assert(
      fc.asyncProperty(arbitrary, async (request) => {
        const status = await send(request, cookie);
        const target = `${request.path}?${request.query ?? ''}`;
        assert.ok(status < 500, `${request.method} ${target.slice(0, 200)} → ${status}`);
      }),
      { seed: SEED, numRuns, endOnFailure: true },
    );

  const AUTH = {
    client_id: 'web-app',
    response_type: 'code',
    scope: 'openid',
    redirect_uri: CALLBACK,
    code_challenge: 'a'.repeat(43),
    code_challenge_method: 'S256',
    state: 'state-1',
  };
  const AUTH_PARAMS = [
    ...Object.keys(AUTH),
    'nonce',
    'prompt',
    'max_age',
    'ui_locales',
    'login_hint',
    'connector',
    'resource',
    'claims',
    'response_mode',
  ];

  it('authorization requests: query and form', async () => {
    await noServerError(
      fc.oneof(
        withFuzzed(AUTH, AUTH_PARAMS).map((query) => ({ method: 'GET', path: '/auth', query })),
        fc
          .tuple(withFuzzed(AUTH, AUTH_PARAMS), fc.constantFrom(...CONTENT_TYPES))
          .map(([body, contentType]) => ({
            method: 'POST',
            path: '/auth',
            body,
            contentType,
          })),
      ),
      250,
    );
  });

  it('token, introspection and revocation requests', async () => {
    const grants: Array<Record<string, string>> = [
      { grant_type: 'client_credentials', resource: 'https://db-api.example.com', scope: 'read' },
      { grant_type: 'authorization_code', code: 'x', redirect_uri: CALLBACK, code_verifier: 'a'.repeat(43) },
      { grant_type: 'refresh_token', refresh_token: 'x' },
    ];
    const clients: Array<[string, string]> = [
      ['web-app', SECRET],
      ['reporting-service', SECRET],
    ];
    await noServerError(
      fc
        .tuple(
          fc.constantFrom('/token', '/token/introspection', '/token/revocation', '/TOKEN/'),
          fc.constantFrom(...grants, { token: 'x', token_type_hint: 'refresh_token' }, { token: 'x' }),
          fc.constantFrom(...clients),
          fc.boolean(),
          fc.constantFrom(...CONTENT_TYPES.slice(0, 5)),
        )
        .chain(([path, valid, [id, secret], inBody, contentType]) =>
          withFuzzed(inBody ? { ...valid, client_id: id, client_secret: secret } : valid, [
            ...Object.keys(valid),
            'client_id',
            'client_secret',
            'token',
          ]).map((body) => ({
            method: 'POST',
            path,
            body,
            contentType,
            ...(!inBody && { headers: { authorization: basic(id, secret) } }),
          })),
        ),
      300,
    );
  });

  it('the login form of a live interaction, and interaction paths', async () => {
    await noServerError(
      fc
        .tuple(
          withFuzzed({ csrf: interaction.csrf, username: 'alice', password: 'wrong' }, [
            'username',
            'password',
            'csrf',
          ]),
          fc.constantFrom(...CONTENT_TYPES.slice(0, 4)),
        )
        .map(([body, contentType]) => ({ method: 'POST', path: interaction.action, body, contentType })),
      60,
      interaction.cookie,
    );
    await noServerError(
      fc
        .tuple(
          encoded,
          fc.constantFrom('', '/login', '/confirm', '/abort', '/totp', '/sso/local', '/sso/x/complete'),
          fc.constantFrom('GET', 'POST'),
          encoded,
        )
        .map(([uid, step, method, body]) => ({
          method,
          path: `/interaction/${uid || 'x'}${step}`,
          ...(method === 'POST' && {
            body: `csrf=${body}&username=${body}&password=x`,
            contentType: CONTENT_TYPES[0],
          }),
        })),
      150,
      interaction.cookie,
    );
  });

  it('the account page: its forms, its sign-in and its callback', async () => {
    const { agent, html } = await accountSignIn(lock.issuer, 'bob', BOB_PASSWORD);
    const page = await (await agent.follow(`${lock.issuer}/account/password`)).response.text();
    const csrf = csrfOf(page);
    const cookie = `lock_account=${agent.cookie('lock_account')}`;
    assert.match(html, /Your account/);
    const form = (path: string, valid: Record<string, string>) =>
      fc
        .tuple(withFuzzed(valid, Object.keys(valid)), fc.constantFrom(...CONTENT_TYPES.slice(0, 4)))
        .map(([body, contentType]) => ({ method: 'POST', path, body, contentType }));
    await noServerError(
      fc.oneof(
        form('/account/password', {
          csrf,
          current_password: 'wrong',
          new_password: 'a long new password',
          confirm_password: 'a long new password',
          end_other_sessions: 'yes',
        }),
        form('/account/sessions/end', { csrf, session: 'x' }),
        form('/account/two-step/enrol', { csrf, enrolment: 'v1:x', code: '123456' }),
        form('/account/two-step/recovery-codes', { csrf }),
        withFuzzed({ code: 'x', state: 'y' }, ['code', 'state', 'error']).map((query) => ({
          method: 'GET',
          path: '/account/callback',
          query,
        })),
        withFuzzed({ return: '/account/password', fresh: '1' }, ['return', 'fresh']).map((query) => ({
          method: 'GET',
          path: '/account/login',
          query,
        })),
      ),
      120,
      cookie,
    );
  });

  it('logout, SAML, userinfo, discovery and made-up paths', async () => {
    await noServerError(
      fc.oneof(
        withFuzzed(
          { client_id: 'web-app', post_logout_redirect_uri: 'https://app.example.com/', state: 's' },
          ['client_id', 'post_logout_redirect_uri', 'state', 'id_token_hint', 'ui_locales'],
        ).map((query) => ({
          method: 'GET',
          path: '/session/end',
          query,
        })),
        withFuzzed({ xsrf: 'x', logout: 'yes' }, ['xsrf', 'logout']).map((body) => ({
          method: 'POST',
          path: '/session/end/confirm',
          body,
          contentType: CONTENT_TYPES[0],
        })),
        fc.tuple(encoded, fc.constantFrom('/metadata', '/acs'), encoded).map(([id, step, value]) => ({
          method: step === '/acs' ? 'POST' : 'GET',
          path: `/saml/${id || 'x'}${step}`,
          ...(step === '/acs' && {
            body: `SAMLResponse=${value}&RelayState=${value}`,
            contentType: CONTENT_TYPES[0],
          }),
        })),
        fc
          .stringMatching(/^[\x21-\x7e]{0,60}$/)
          .map((token) => ({ method: 'GET', path: '/me', headers: { authorization: `Bearer ${token}` } })),
        fc
          .tuple(
            fc.array(encoded, { minLength: 1, maxLength: 4 }),
            fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
            fc.uint8Array({ maxLength: 64 }),
            fc.constantFrom(...CONTENT_TYPES),
          )
          .map(([segments, method, body, contentType]) => ({
            method,
            path: `/${segments.join('/')}`,
            ...(method !== 'GET' && { body, contentType }),
          })),
        fc
          .tuple(
            fc.constantFrom(
              '/',
              '/.well-known/openid-configuration',
              '/jwks',
              '/healthz',
              '/readyz',
              '/metrics',
              '/assets/lock.css',
              '/admin',
              '/admin/api/v1/openapi.json',
              '/session/end/success',
            ),
            fc.constantFrom('GET', 'HEAD', 'POST', 'OPTIONS'),
            encoded,
          )
          .map(([path, method, query]) => ({ method, path, query: `x=${query}&${query}=${query}` })),
      ),
      300,
    );
  });

  it('the device pages: the user-code form and resume links, with and without a session', async () => {
    const devicePages = fc.oneof(
      fc
        .tuple(
          withFuzzed({ xsrf: 'x', user_code: 'BCDF-GHJK' }, ['xsrf', 'user_code', 'confirm', 'abort']),
          fc.constantFrom(...CONTENT_TYPES.slice(0, 4)),
        )
        .map(([body, contentType]) => ({ method: 'POST', path: '/device', body, contentType })),
      withFuzzed({ user_code: 'BCDF-GHJK' }, ['user_code']).map((query) => ({
        method: 'GET',
        path: '/device',
        query,
      })),
      fc
        .tuple(encoded, fc.constantFrom('GET', 'HEAD', 'POST'))
        .map(([uid, method]) => ({ method, path: `/device/${uid || 'x'}` })),
    );
    const page = await fetch(`${lock.issuer}/device`);
    const session = page.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    assert.match(session, /_session=/);
    await noServerError(devicePages, 100);
    await noServerError(devicePages, 100, session);
  });

  it('every admin API route, with fuzzed path parameters, queries and JSON bodies', async () => {
    const templates: Record<string, Record<string, unknown>> = {
      '/roles': { name: 'fuzz_role', description: 'd' },
      '/groups': { name: 'fuzz-group' },
      '/users': {
        username: 'fuzz-user',
        password: 'a fuzzing passphrase',
        email: 'f@example.com',
        name: 'F',
      },
      '/resources': { id: 'https://fuzz.example.com', scopes: ['read'] },
      '/clients': { clientId: 'fuzz-client', grantTypes: ['client_credentials'] },
      '/role-mappings': { connector: 'local', group: 'g', roles: ['app_admin'] },
    };
    const jsonBody = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
      fc
        .tuple(fc.constantFrom(...Object.values(templates)), nasty)
        .chain(([template, value]) =>
          fc
            .constantFrom(...Object.keys(template))
            .map((field) => JSON.stringify({ ...template, [field]: value })),
        ),
      nasty.map((value) =>
        JSON.stringify({ name: value, username: value, clientId: value, id: value, group: value }),
      ),
      fc.constantFrom('{', '{"name":"\\u0000"}', '{"name":"\\ud800"}', '{"\\u0000":1}', '[]', 'null', '"x"'),
    );
    await noServerError(
      fc
        .tuple(
          fc.constantFrom(...ADMIN_ROUTES),
          fc.array(encoded, { minLength: 3, maxLength: 3 }),
          encoded,
          jsonBody,
          fc.constantFrom(
            'application/json',
            'application/json',
            'text/plain',
            'application/x-www-form-urlencoded',
          ),
        )
        .map(([route, values, query, body, contentType]) => {
          let index = 0;
          const path = route.path.replace(/\{\w+\}/g, () => values[index++] || 'x');
          const method = route.method.toUpperCase();
          return {
            method,
            path: `/admin/api/v1${path}`,
            query: `type=${query}&cursor=${query}&limit=${query}&q=${query}`,
            ...(method !== 'GET' && method !== 'DELETE' && { body, contentType }),
            headers: { authorization: `Bearer ${adminToken}`, 'if-match': '*' },
          };
        }),
      400,
    );
  });

  it('is ready afterwards, and refused control characters with a 400 naming the field', async () => {
    const ready = await fetch(`${lock.issuer}/readyz`);
    assert.equal(ready.status, 200);
    const named = responses.filter(
      (response) => response.status === 400 && /contains a control character/.test(response.text),
    );
    assert.ok(named.length > 0, 'some fuzzed requests carried a control character');
    const statuses = new Map<number, number>();
    for (const { status } of responses) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    assert.ok(responses.length >= 1400, `${responses.length} requests: ${JSON.stringify([...statuses])}`);
  });
});

describe('control characters are refused at the edge, naming the field', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({ config: loginConfig });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('answers 400 to %00 in an authorization request state, and to \\0 in a sign-in username', async () => {
    const state = await fetch(
      `${lock.issuer}/auth?client_id=web-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(CALLBACK)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&state=a%00b`,
      { redirect: 'manual', headers: { accept: 'application/json' } },
    );
    assert.equal(state.status, 400);
    assert.match(
      ((await state.json()) as { error_description: string }).error_description,
      /query parameter "state" contains a control character \(U\+0000\)/,
    );

    const agent = new UserAgent(lock.issuer);
    const page = await agent.follow(
      `${lock.issuer}/auth?client_id=web-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(CALLBACK)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
    );
    const form = readLoginForm(await page.response.text());
    const signIn = await agent.request(new URL(form.action, page.url!).toString(), {
      form: { csrf: form.csrf, username: 'alice\0', password: 'whatever' },
    });
    assert.equal(signIn.status, 400);
    assert.match(await signIn.text(), /form field \\?"username\\?" contains a control character \(U\+0000\)/);
  });

  it('answers 400 to \\u0000 and unpaired surrogates in admin JSON bodies', async () => {
    const response = await fetch(`${lock.issuer}/admin/api/v1/roles`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"x","description":"a\\u0000b"}',
    });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /JSON member \\?"description\\?" contains a control character/);
  });
});
