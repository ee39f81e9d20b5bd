import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ADMIN_ROUTES } from '../../src/admin/api/router.ts';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD } from '../helpers/login-fixtures.ts';
import {
  ADMIN_PASSWORD,
  type AdminApi,
  adminApi,
  assertNoSecretReturned,
  consoleToken,
  responsesContaining,
  serviceToken,
} from './admin-api.ts';

const NEW_ADMIN_PASSWORD = 'a second admin with a long passphrase';

describe('admin API: authentication, authorisation and the OpenAPI document', () => {
  let lock: RunningLock;
  let api: AdminApi;
  let adminToken: string;
  let automationSecret = '';

  before(async () => {
    lock = await startLock({
      config: `${tokenConfig}
users:
  - { username: alice, password: "${ALICE_PASSWORD}" }
`,
      env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD },
    });
    adminToken = await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD);
    api = adminApi(lock.issuer, adminToken);
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('serves a valid OpenAPI 3.1 document, without a token, describing every route', async () => {
    const response = await fetch(`${lock.issuer}/admin/api/v1/openapi.json`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId: string }>>;
      servers: Array<{ url: string }>;
    };
    const result = await new Validator().validate(document as never);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(document.openapi, '3.1.0');
    assert.equal(document.servers[0]!.url, `${lock.issuer}/admin/api/v1`);
    const operations = Object.values(document.paths).flatMap((item) =>
      Object.values(item).map((operation) => operation.operationId),
    );
    assert.deepEqual(operations.toSorted(), ADMIN_ROUTES.map((route) => route.operationId).toSorted());
    assert.equal(new Set(operations).size, operations.length, 'operationIds are unique');
  });

  it('answers 401 with a Bearer challenge without a token, and invalid_token for a bad one', async () => {
    const none = await api('GET', '/roles', { token: '' });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), `Bearer realm="${lock.issuer}/admin"`);

    const garbage = await api('GET', '/roles', { token: 'not.a.jwt' });
    assert.equal(garbage.status, 401);
    assert.match(garbage.headers.get('www-authenticate')!, /^Bearer realm="[^"]+", error="invalid_token"/);

    const tampered = await api('GET', '/roles', { token: `${adminToken.slice(0, -4)}AAAA` });
    assert.equal(tampered.status, 401);
    assert.match(tampered.headers.get('www-authenticate')!, /error="invalid_token"/);

    // A perfectly good Lock token, but for another API: the audience decides.
    const otherApi = await serviceToken(
      lock.issuer,
      'reporting-service',
      SECRET,
      'https://db-api.example.com',
    );
    const wrongAudience = await api('GET', '/roles', { token: otherApi });
    assert.equal(wrongAudience.status, 401);
    assert.match(wrongAudience.body.error, /aud/);

    const basic = await api('GET', '/roles', {
      headers: { authorization: 'Basic YWRtaW46YWRtaW4=' },
      token: '',
    });
    assert.equal(basic.status, 401);
  });

  it('answers 403 insufficient_scope to a signed-in user without lock_admin', async () => {
    const aliceToken = await consoleToken(lock.issuer, 'alice', ALICE_PASSWORD);
    const response = await api('GET', '/roles', { token: aliceToken });
    assert.equal(response.status, 403);
    assert.match(response.headers.get('www-authenticate')!, /error="insufficient_scope"/);
  });

  it('lets an automation client with lock_admin in, and names it as the actor of its changes', async () => {
    const registered = await api('POST', '/clients', {
      body: {
        clientId: 'lock-automation',
        grantTypes: ['client_credentials'],
        roles: ['lock_admin'],
        resources: [`${lock.issuer}/admin`],
      },
    });
    assert.equal(registered.status, 201, registered.text);
    automationSecret = registered.body.clientSecret;
    const token = await serviceToken(lock.issuer, 'lock-automation', automationSecret);
    const automation = adminApi(lock.issuer, token);
    const created = await automation('POST', '/roles', { body: { name: 'made_by_automation' } });
    assert.equal(created.status, 201);
    const events = await api('GET', '/audit-events?type=admin.role.created');
    assert.equal(events.status, 200);
    const event = events.body.items.find(
      (item: { subject: string }) => item.subject === 'made_by_automation',
    );
    assert.equal(event.actor, 'lock-automation');
    assert.equal(event.clientId, 'lock-automation');
  });

  it('stops honouring an admin token at once when the admin is disabled or loses the role', async () => {
    const created = await api('POST', '/users', {
      body: { username: 'second-admin', password: NEW_ADMIN_PASSWORD, roles: ['lock_admin'] },
    });
    assert.equal(created.status, 201);
    const token = await consoleToken(lock.issuer, 'second-admin', NEW_ADMIN_PASSWORD);
    assert.equal((await api('GET', '/roles', { token })).status, 200);

    const withoutRole = await api('PATCH', `/users/${created.body.id}`, {
      body: { roles: [] },
      ifMatch: created.etag!,
    });
    assert.equal(withoutRole.status, 200);
    assert.equal((await api('GET', '/roles', { token })).status, 403);

    await api('PATCH', `/users/${created.body.id}`, { body: { roles: ['lock_admin'] }, ifMatch: '*' });
    assert.equal((await api('GET', '/roles', { token })).status, 200);
    const disabled = await api('POST', `/users/${created.body.id}/disable`);
    assert.equal(disabled.status, 200);
    const refused = await api('GET', '/roles', { token });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate')!, /error="invalid_token"/);
  });

  it('answers unknown paths with 404 and wrong methods with 405, as JSON, after authentication', async () => {
    assert.equal((await api('GET', '/nothing-here', { token: '' })).status, 401);
    const missing = await api('GET', '/nothing-here');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /openapi\.json/);
    const wrongMethod = await api('DELETE', '/roles');
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET, POST');
    assert.equal(wrongMethod.headers.get('cache-control'), 'no-store');
  });

  it('never returned a secret (a generated one only in the response that created it)', () => {
    assert.equal(responsesContaining(automationSecret), 1);
    assertNoSecretReturned([SECRET, ADMIN_PASSWORD, NEW_ADMIN_PASSWORD, ALICE_PASSWORD, '$argon2id$']);
  });
});
