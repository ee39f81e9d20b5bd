import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { DEVICE_FLOW_DEFAULTS, TOKEN_LIFETIMES } from '../../src/config/defaults.ts';
import { ADMIN_PASSWORD, adminApi, consoleToken, eventually } from '../admin/admin-api.ts';
import { startDeviceClient } from '../helpers/device-client-process.ts';
import { approveDevice, enterUserCode, readXsrf } from '../helpers/device-user.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, API, CALLBACK, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
const ALICE = { username: 'alice', password: ALICE_PASSWORD };

const config = `
roles: [{ name: app_readwrite }]
resources:
  - { id: ${API}, scopes: [read, write], roles: [app_readwrite] }
clients:
  - clientId: tv-app
    name: Living-room TV
    public: true
    firstParty: true
    grantTypes: [${DEVICE_CODE}, refresh_token]
    resources: [${API}]
  - clientId: deploy-cli
    name: Deploy CLI
    clientSecret: ${WEB_SECRET}
    grantTypes: [${DEVICE_CODE}]
    resources: [${API}]
  - clientId: web-app
    clientSecret: ${WEB_SECRET}
    redirectUris: [${CALLBACK}]
connectors:
  - { id: local, type: local, name: Lock account }
roleMappings:
  - { connector: local, group: editors, roles: [app_readwrite] }
users:
  - { username: alice, password: "${ALICE_PASSWORD}", groups: [editors] }
`;

describe('device authorization grant (RFC 8628)', () => {
  let lock: RunningLock;

  before(async () => {
    lock = await startLock({ config, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const deviceAuthorization = (form: Record<string, string>, basic?: [string, string]) =>
    postForm(`${lock.issuer}/device/auth`, form, basic);
  const poll = (deviceCode: string) =>
    postForm(`${lock.issuer}/token`, { grant_type: DEVICE_CODE, device_code: deviceCode }, [
      'deploy-cli',
      WEB_SECRET,
    ]);
  const startCli = async () => {
    const started = await deviceAuthorization({ scope: 'openid read', resource: API }, [
      'deploy-cli',
      WEB_SECRET,
    ]);
    assert.equal(started.status, 200, JSON.stringify(started.body));
    return started.body as { device_code: string; user_code: string; interval: number; expires_in: number };
  };
  /** Audit rows are written after the answer: wait for `count` of them; the latest. */
  const auditRow = async (type: string, clientId: string, count = 1) => {
    for (let i = 0; i < 50; i++) {
      const { rows } = await lock.database.pool.query(
        'SELECT outcome, actor, client_id, details FROM audit_events WHERE type = $1 AND client_id = $2 ORDER BY id DESC',
        [type, clientId],
      );
      if (rows.length >= count)
        return rows[0] as { outcome: string; actor: string | null; client_id: string; details: unknown };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { rows } = await lock.database.pool.query(
      'SELECT type, client_id, actor FROM audit_events ORDER BY id',
    );
    assert.fail(`no ${type} audit event for ${clientId}: ${JSON.stringify(rows)}`);
  };

  it('a public device client (openid-client, own process) gets tokens once alice enters the code, signs in and approves', async () => {
    const device = await startDeviceClient({
      issuer: lock.issuer,
      clientId: 'tv-app',
      scope: 'openid offline_access read',
      resource: API,
    });
    try {
      assert.equal(device.started.verification_uri, `${lock.issuer}/device`);
      assert.equal(device.started.interval, DEVICE_FLOW_DEFAULTS.pollIntervalSeconds);
      assert.equal(device.started.expires_in, TOKEN_LIFETIMES.DeviceCode);
      assert.match(device.started.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);

      // Typed in lower case without the dash: the code is normalised before it is looked up.
      const typed = device.started.user_code.replace('-', '').toLowerCase();
      const done = await approveDevice(new UserAgent(lock.issuer), lock.issuer, typed, ALICE);
      assert.match(done.consentHtml, /Living-room TV/, 'the approval screen names the client');
      assert.ok(done.consentHtml.includes(API), 'and the API it asks for');
      assert.match(done.consentHtml, /<code>read<\/code>/, 'and the scope');
      assert.equal(done.status, 200);
      assert.match(done.html, /Your device is signed in/);

      const outcome = await device.outcome;
      assert.ok('tokens' in outcome, JSON.stringify(outcome));
      const jwks = createRemoteJWKSet(new URL(`${lock.issuer}/jwks`));
      const { payload } = await jwtVerify(outcome.tokens.access_token, jwks, {
        issuer: lock.issuer,
        audience: API,
      });
      assert.equal(payload.client_id, 'tv-app');
      assert.deepEqual(payload.roles, ['app_readwrite'], "alice's roles for the API");
      assert.equal(payload.scope, 'read');
      assert.equal(payload.idp, 'local');
      assert.ok(Array.isArray(payload.amr) && payload.amr.includes('pwd'), 'how she signed in');
      assert.ok(outcome.tokens.id_token && outcome.tokens.refresh_token);
      assert.equal(decodeJwt(outcome.tokens.id_token).sub, payload.sub);

      const approved = await auditRow('device.approved', 'tv-app');
      assert.equal(approved.outcome, 'success');
      assert.equal(approved.actor, payload.sub, 'the audit names who approved');
    } finally {
      device.kill();
    }
  });

  it('a confidential client authenticates at the device endpoint; a client without the grant is refused', async () => {
    const noSecret = await deviceAuthorization({ client_id: 'deploy-cli', scope: 'openid' });
    assert.equal(noSecret.status, 401);
    assert.equal(noSecret.body.error, 'invalid_client');
    const wrongGrant = await deviceAuthorization({ scope: 'openid' }, ['web-app', WEB_SECRET]);
    assert.equal(wrongGrant.status, 400, JSON.stringify(wrongGrant.body));
    // oidc-provider's answer (RFC 6749 would say unauthorized_client): refused, naming the grant.
    assert.equal(wrongGrant.body.error, 'invalid_request');
    assert.match(String(wrongGrant.body.error_description), /device_code is not allowed for this client/);
    const foreignApi = await deviceAuthorization({ scope: 'openid', resource: 'https://other.example.com' }, [
      'deploy-cli',
      WEB_SECRET,
    ]);
    assert.equal(foreignApi.body.error, 'invalid_target');
  });

  it('the admin API gives a client the device grant; it can start a device sign-in at once', async () => {
    const api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    const created = await api('POST', '/clients', {
      body: { clientId: 'kiosk', public: true, grantTypes: [DEVICE_CODE], resources: [API] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const listed = await api('GET', '/clients');
    const kiosk = (listed.body.items as Array<{ clientId: string; grantTypes: string[] }>).find(
      (client) => client.clientId === 'kiosk',
    );
    assert.deepEqual(kiosk?.grantTypes, [DEVICE_CODE]);
    await eventually('the kiosk may start a device sign-in', async () => {
      const started = await deviceAuthorization({ client_id: 'kiosk', scope: 'openid', resource: API });
      return started.status === 200 ? started : undefined;
    });
  });

  it('polling: authorization_pending until approved, slow_down when faster than the interval, which grows by 5 s', async () => {
    const started = await startCli();
    const first = await poll(started.device_code);
    assert.equal(first.status, 400);
    assert.equal(first.body.error, 'authorization_pending');
    const tooSoon = await poll(started.device_code);
    assert.equal(tooSoon.body.error, 'slow_down');
    assert.match(String(tooSoon.body.error_description), /every 10 seconds/);
    const again = await poll(started.device_code);
    assert.match(String(again.body.error_description), /every 15 seconds/);

    // Forty polls of a fresh code at once: exactly one is in time, the others are told to slow down.
    const fresh = await startCli();
    const answers = await Promise.all(Array.from({ length: 40 }, () => poll(fresh.device_code)));
    const errors = answers.map((answer) => answer.body.error);
    assert.equal(errors.filter((error) => error === 'authorization_pending').length, 1, errors.join(' '));
    assert.equal(errors.filter((error) => error === 'slow_down').length, 39);

    // A made-up code is not counted: oidc-provider answers it, as before.
    const unknown = await poll('not-a-device-code');
    assert.equal(unknown.body.error, 'invalid_grant');
  });

  it('denied at the approval screen: the device gets access_denied, the page says so, the audit records it', async () => {
    const started = await startCli();
    const done = await approveDevice(
      new UserAgent(lock.issuer),
      lock.issuer,
      started.user_code,
      ALICE,
      'Cancel',
    );
    assert.match(done.html, /You denied access/);
    const answer = await poll(started.device_code);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error, 'access_denied');
    const denied = await auditRow('device.denied', 'deploy-cli');
    assert.equal(denied.outcome, 'failure');
  });

  it('denied on "Is this your device?", before signing in: access_denied, and the code cannot be used again', async () => {
    const started = await startCli();
    const done = await approveDevice(
      new UserAgent(lock.issuer),
      lock.issuer,
      started.user_code,
      ALICE,
      'Deny',
    );
    assert.match(done.html, /You denied access/);
    assert.equal((await poll(started.device_code)).body.error, 'access_denied');
    const denied = await auditRow('device.denied', 'deploy-cli', 2);
    assert.equal(denied.actor, null, 'nobody had signed in yet');
    const reused = await enterUserCode(new UserAgent(lock.issuer), lock.issuer, started.user_code);
    assert.match(reused.html, /That code has already been used/);
  });

  it('an expired code: the device gets expired_token and the page says the code expired', async () => {
    const started = await startCli();
    const { rows } = await lock.database.pool.query(
      "SELECT expires_at, (payload->>'exp')::bigint AS exp FROM oidc_payloads WHERE model = 'DeviceCode' AND id = $1",
      [started.device_code],
    );
    // The stored code outlives its expiry, so that late polls are told expired_token, not "unknown".
    assert.ok(new Date(rows[0].expires_at).getTime() / 1000 >= Number(rows[0].exp) + 3000);
    // Time passes for oidc-provider: the code's own expiry moves into the past.
    await lock.database.pool.query(
      "UPDATE oidc_payloads SET payload = jsonb_set(payload, '{exp}', to_jsonb(extract(epoch FROM now())::bigint - 1)) WHERE model = 'DeviceCode' AND id = $1",
      [started.device_code],
    );
    const answer = await poll(started.device_code);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error, 'expired_token');
    const page = await enterUserCode(new UserAgent(lock.issuer), lock.issuer, started.user_code);
    assert.match(page.html, /That code has expired/);
  });

  it("the device page is Lock's own: its look, its CSP, a CSRF token bound to the browser", async () => {
    const agent = new UserAgent(lock.issuer);
    const page = await agent.request(`${lock.issuer}/device`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /form-action 'self'/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const html = await page.text();
    assert.match(html, /<link rel="stylesheet" href="\/assets\/lock.css">/);
    assert.match(html, /Enter the code your device shows/);
    readXsrf(html);
    // Another browser's form token is refused.
    const started = await startCli();
    const other = new UserAgent(lock.issuer);
    await other.request(`${lock.issuer}/device`);
    const forged = await other.request(`${lock.issuer}/device`, {
      form: { xsrf: readXsrf(html), user_code: started.user_code },
    });
    const forgedHtml = await forged.text();
    assert.doesNotMatch(forgedHtml, /Is this your device\?/);
    assert.match(forgedHtml, /xsrf token invalid|could not be completed/);
  });

  it('a post of the device page from a browser without a session starts the page afresh (no 500)', async () => {
    const started = await startCli();
    const response = await fetch(`${lock.issuer}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf: 'made-up', user_code: started.user_code }),
      redirect: 'manual',
    });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/device');
  });

  it('a resume link of the device page opened without a session starts the page afresh (no 500), however spelled', async () => {
    // An expired or forwarded link to /device/<uid>, or a browser that lost its cookies: oidc-provider
    // fails as it saves the error page's new xsrf into a session that was never stored.
    for (const path of ['/device/made-up-uid', '/DEVICE/made-up-uid/', '/device/auth', '/device/a%2F..%2F'])
      for (const method of ['GET', 'HEAD']) {
        const response = await fetch(`${lock.issuer}${path}`, { method, redirect: 'manual' });
        assert.equal(response.status, 303, `${method} ${path}`);
        assert.equal(response.headers.get('location'), '/device', `${method} ${path}`);
      }
  });

  it('a wrong user code shows an error on the page; right codes are not counted against the address', async () => {
    const agent = new UserAgent(lock.issuer);
    const wrong = await enterUserCode(agent, lock.issuer, 'BBBB-BBBB');
    assert.equal(wrong.status, 200);
    assert.match(wrong.html, /That code is not right/);
    assert.match(wrong.html, /value="BBBB-BBBB"/, 'what was typed is kept to be corrected');
    // More right codes than the budget of wrong ones: each reaches the confirmation.
    const started = await startCli();
    for (let i = 0; i < DEVICE_FLOW_DEFAULTS.userCodeAttemptsPerAddress + 5; i++) {
      const right = await enterUserCode(new UserAgent(lock.issuer), lock.issuer, started.user_code);
      assert.match(right.html, /Is this your device\?/, `entry ${i + 1}`);
    }
  });

  it('wrong codes typed at once cannot outrun the budget: past it the address is refused, even with a right code', async () => {
    const started = await startCli();
    const budget = DEVICE_FLOW_DEFAULTS.userCodeAttemptsPerAddress;
    // The one wrong code of the test before is counted already.
    const agents = Array.from({ length: 40 }, () => new UserAgent(lock.issuer));
    const forms = await Promise.all(
      agents.map(async (agent) => readXsrf(await (await agent.request(`${lock.issuer}/device`)).text())),
    );
    const answers = await Promise.all(
      agents.map(async (agent, i) => {
        // Half of them spelt as the router also dispatches it: the same route, the same budget.
        const response = await agent.request(`${lock.issuer}${i % 2 ? '/Device/' : '/device'}`, {
          form: { xsrf: forms[i]!, user_code: `WXYZ-${'BCDFGHJKLMNPQRSTVWXZ'[i % 20]}BCD` },
        });
        return { status: response.status, html: await response.text() };
      }),
    );
    const checked = answers.filter((answer) => /That code is not right/.test(answer.html));
    const refused = answers.filter((answer) => answer.status === 429);
    assert.equal(checked.length, budget - 1, 'only the budget was checked');
    assert.equal(refused.length, 40 - (budget - 1));
    assert.match(refused[0]!.html, /Too many wrong codes/);
    const right = await enterUserCode(new UserAgent(lock.issuer), lock.issuer, started.user_code);
    assert.equal(right.status, 429, 'a locked address is refused before any lookup');
    await lock.database.pool.query("DELETE FROM login_failures WHERE key LIKE 'user-code:%'");
  });
});

describe('device endpoints: the per-address rate limit', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({ config, env: { LOCK_RATE_LIMIT_DEVICE: '5', LOCK_RATE_LIMIT_WINDOW: '3600' } });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('counts posts to /device/auth and /device per address: past LOCK_RATE_LIMIT_DEVICE, 429', async () => {
    // Not following the redirect to a fresh /device page: that view is counted too (anonymous-sessions.test.ts).
    const post = (path: string, body: string) =>
      fetch(`${lock.issuer}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        redirect: 'manual',
      }).then((response) => response.status);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        i % 2
          ? post('/device/auth', 'client_id=tv-app&scope=openid')
          : post('/device', 'user_code=BBBB-BBBB'),
      ),
    );
    assert.equal(answers.filter((status) => status === 429).length, 3, answers.join(' '));
  });
});
