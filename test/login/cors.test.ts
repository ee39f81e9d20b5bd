import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { API, WEB_SECRET } from '../helpers/login-fixtures.ts';

describe('CORS per client', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({
      config: `
roles: [{ name: app_readonly }]
resources: [{ id: ${API}, roles: [app_readonly] }]
clients:
  - clientId: spa-backend
    clientSecret: ${WEB_SECRET}
    grantTypes: [client_credentials]
    roles: [app_readonly]
    resources: [${API}]
    allowedOrigins: [https://app.example.com]
`,
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const tokenFrom = (origin: string) =>
    fetch(`${lock.issuer}/token`, {
      method: 'POST',
      headers: {
        origin,
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`spa-backend:${WEB_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });

  it("allows the client's own origin on the token endpoint", async () => {
    const response = await tokenFrom('https://app.example.com');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://app.example.com');
  });

  it('refuses any other origin', async () => {
    const response = await tokenFrom('https://evil.example.com');
    assert.equal(response.headers.get('access-control-allow-origin'), null);
    assert.notEqual(response.status, 200);
  });

  it('keeps the login pages same-origin', async () => {
    const response = await fetch(`${lock.issuer}/auth?client_id=spa-backend`, {
      headers: { origin: 'https://app.example.com' },
      redirect: 'manual',
    });
    assert.equal(response.headers.get('access-control-allow-origin'), null);
  });
});
