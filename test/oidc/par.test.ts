import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { signIn } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const SECRET = 'par-test-secret-0123456789';
const PASSWORD = 'a long enough password for alice';
const API = 'https://par-api.example.com';
const CALLBACK = 'https://app.example.com/callback';

const config = `
roles:
  - { name: reader }
resources:
  - { id: ${API}, scopes: [read], roles: [reader] }
clients:
  - clientId: pushing-app
    clientSecret: ${SECRET}
    firstParty: true
    requirePushedAuthorizationRequests: true
    redirectUris: [${CALLBACK}]
    resources: [${API}]
  - clientId: plain-app
    clientSecret: ${SECRET}
    firstParty: true
    redirectUris: [${CALLBACK}]
    resources: [${API}]
connectors:
  - { id: local, type: local, name: Lock account }
users:
  - { username: alice, password: "${PASSWORD}", roles: [reader] }
`;

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

describe('pushed authorization requests (RFC 9126)', () => {
  let lock: RunningLock;
  let discovery: Record<string, unknown>;
  before(async () => {
    lock = await startLock({ config });
    discovery = await (await fetch(`${lock.issuer}/.well-known/openid-configuration`)).json();
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  /** Pushes the authorization parameters as `client` and returns the PAR endpoint's answer. */
  async function push(client: string, challenge: string, extra: Record<string, string> = {}) {
    return postForm(
      String(discovery.pushed_authorization_request_endpoint),
      {
        client_id: client,
        response_type: 'code',
        redirect_uri: CALLBACK,
        scope: 'openid',
        resource: API,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 'pushed-state',
        ...extra,
      },
      [client, SECRET],
    );
  }

  it('a pushed request: the browser carries only request_uri, and the code redeems for tokens', async () => {
    const { verifier, challenge } = pkce();
    const pushed = await push('pushing-app', challenge);
    assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
    const requestUri = pushed.body.request_uri as string;
    assert.match(requestUri, /^urn:ietf:params:oauth:request_uri:/);
    assert.ok(Number(pushed.body.expires_in) > 0);

    const url = new URL(String(discovery.authorization_endpoint));
    url.searchParams.set('client_id', 'pushing-app');
    url.searchParams.set('request_uri', requestUri);
    const { landed } = await signIn(new UserAgent(lock.issuer), url.toString(), 'alice', PASSWORD);
    assert.ok(landed?.startsWith(`${CALLBACK}?`), `landed at ${landed}`);
    const callback = new URL(landed!);
    assert.equal(callback.searchParams.get('state'), 'pushed-state');
    const tokens = await postForm(
      `${lock.issuer}/token`,
      {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      },
      ['pushing-app', SECRET],
    );
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.deepEqual(decodeJwt(tokens.body.access_token as string).aud, API);
  });

  it('a pushed request is honoured only for the client that pushed it', async () => {
    const pushed = await push('plain-app', pkce().challenge);
    assert.equal(pushed.status, 201);
    const url = new URL(String(discovery.authorization_endpoint));
    url.searchParams.set('client_id', 'pushing-app');
    url.searchParams.set('request_uri', pushed.body.request_uri as string);
    const response = await fetch(url, { redirect: 'manual' });
    const location = response.headers.get('location') ?? '';
    assert.doesNotMatch(location, /\/interaction\//, 'no sign-in for a request another client pushed');
    assert.equal(new URL(location).searchParams.get('error'), 'invalid_request_object');
    assert.match(new URL(location).searchParams.get('error_description') ?? '', /client_id must equal/);
  });

  it('a client that requires PAR cannot use a plain authorization request', async () => {
    const url = new URL(String(discovery.authorization_endpoint));
    for (const [name, value] of Object.entries({
      client_id: 'pushing-app',
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'openid',
      resource: API,
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    }))
      url.searchParams.set(name, value);
    const response = await fetch(url, { redirect: 'manual' });
    const location = response.headers.get('location');
    assert.ok(location, `answered at the client, got ${response.status}`);
    const error = new URL(location).searchParams;
    assert.equal(error.get('error'), 'invalid_request');
    assert.match(error.get('error_description') ?? '', /Pushed Authorization Request must be used/);

    // The same request from a client without the setting goes to the sign-in page.
    url.searchParams.set('client_id', 'plain-app');
    const plain = await fetch(url, { redirect: 'manual' });
    assert.match(plain.headers.get('location') ?? '', /\/interaction\//);
  });

  it('a push without client authentication is refused', async () => {
    const response = await fetch(String(discovery.pushed_authorization_request_endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'pushing-app', response_type: 'code', redirect_uri: CALLBACK }),
    });
    assert.equal(response.status, 401);
    assert.equal((await response.json()).error, 'invalid_client');
  });
});
