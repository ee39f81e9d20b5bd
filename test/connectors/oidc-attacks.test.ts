import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, type JWTPayload } from 'jose';
import {
  type ForgedUpstream,
  forgedKey,
  hmacWithPublicKey,
  signIdToken,
  startForgedUpstream,
  unsignedIdToken,
} from '../helpers/forged-upstream.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { API, CALLBACK, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';
import {
  oidcLockConfig,
  peerConnectorConfig,
  registerUpstreamClient,
  signInThroughUpstream,
  UPSTREAM_PEOPLE,
  upstreamOidc,
} from '../helpers/upstream-oidc.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const FORGED_CLIENT = 'lock-at-forged';
const REFUSED = /The answer from Forged IdP could not be accepted/;

/**
 * What Lock refuses from an upstream OpenID provider. The forged upstream (test/helpers/
 * forged-upstream.ts) is an HTTP server of the test's own whose token endpoint hands out the ID
 * token each test crafts; the replay, CSRF and email cases use the real upstream peer.
 */
describe('oidc connector: refusals', () => {
  let forged: ForgedUpstream;
  let lock: RunningLock;

  before(async () => {
    forged = await startForgedUpstream({ clientId: FORGED_CLIENT });
    const peerClient = await registerUpstreamClient('corp');
    const config = oidcLockConfig({
      connectorId: 'corp',
      redirectUri: CALLBACK,
      connectorConfig: peerConnectorConfig(peerClient),
    });
    lock = await startLock({
      config: `${config.replace(
        'roleMappings:',
        `  - id: forged
    type: oidc
    name: Forged IdP
    config: ${JSON.stringify({
      issuer: forged.issuer,
      clientId: FORGED_CLIENT,
      clientSecret: 'forged-client-secret',
      allowInsecureIssuer: true,
      userinfo: false,
      timeoutSeconds: 2,
    })}
roleMappings:`,
      )}`,
    });
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
    await forged?.close();
  });

  const authorize = (connector: string) =>
    startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: WEB_SECRET },
      { redirect_uri: CALLBACK, scope: 'openid profile email groups', resource: API, connector },
    );

  /** A browser of its own through the forged upstream: Lock → /authorize → Lock's callback → the client or a page. */
  async function throughForged() {
    const agent = new UserAgent(lock.issuer);
    const request = await authorize('forged');
    const toUpstream = await agent.follow(request.url.toString());
    assert.ok(toUpstream.left?.startsWith(`${forged.issuer}/authorize`), `sent upstream: ${toUpstream.left}`);
    const answer = await fetch(toUpstream.left!, { redirect: 'manual' });
    const callback = answer.headers.get('location')!;
    assert.ok(callback.startsWith(`${lock.issuer}/sso/forged/callback?`), callback);
    const done = await agent.follow(callback);
    const html = done.left ? '' : await done.response.text();
    return { agent, request, callback, landed: done.left, status: done.response.status, html };
  }

  async function assertRefused(result: Awaited<ReturnType<typeof throughForged>>) {
    assert.equal(result.landed, undefined, `the browser must not reach the client: ${result.landed}`);
    assert.equal(result.status, 400);
    assert.match(result.html, REFUSED);
    const { rows } = await lock.database.pool.query("SELECT 1 FROM identities WHERE connector = 'forged'");
    assert.equal(rows.length, 0, 'nobody was recorded');
  }

  const withClaims = (claims: JWTPayload) => forged.answer({ claims });

  it('baseline: a well-formed answer of the forged upstream signs in (so each refusal below is its forgery’s)', async () => {
    const authTime = Math.floor(Date.now() / 1000) - 5;
    withClaims({ amr: ['pwd', 'made-up-method'], auth_time: authTime, acr: 'urn:example:loa:2' });
    const result = await throughForged();
    assert.ok(
      result.landed?.startsWith(`${CALLBACK}?code=`),
      `${result.status} ${result.html.slice(0, 300)}`,
    );
    const tokens = await redeem(result.request, new URL(result.landed!));
    const id = tokens.claims()!;
    assert.equal(id.idp, 'forged');
    assert.deepEqual(id.amr, ['pwd'], 'RFC 8176 methods only');
    const access = decodeJwt(tokens.access_token);
    assert.equal(access.auth_time, authTime, 'auth_time: when the upstream authenticated the person');
    assert.equal(access.acr, 'urn:example:loa:2');
    // PKCE S256 and a nonce went upstream.
    const sent = forged.lastAuthorization()!.params;
    assert.equal(sent.get('code_challenge_method'), 'S256');
    assert.ok((sent.get('nonce') ?? '').length >= 32);
    assert.equal(sent.get('redirect_uri'), `${lock.issuer}/sso/forged/callback`);
    await lock.database.pool.query("DELETE FROM identities WHERE connector = 'forged'");
  });

  it('refuses a wrong state', async () => {
    forged.answer({
      callback: (authorization, iss) => ({ code: authorization.code, state: 'not-the-state-lock-sent', iss }),
    });
    await assertRefused(await throughForged());
    assert.equal(
      forged.redeemed.includes(forged.lastAuthorization()!.code),
      false,
      'the code was never redeemed',
    );
  });

  it('refuses an ID token with a wrong nonce', async () => {
    withClaims({ nonce: 'a-nonce-lock-never-sent' });
    await assertRefused(await throughForged());
  });

  it('refuses an ID token without a nonce', async () => {
    forged.answer({
      idToken: ({ nonce: _nonce, ...claims }) => signIdToken(claims, forged.key),
    });
    await assertRefused(await throughForged());
  });

  it('refuses an ID token for another audience', async () => {
    withClaims({ aud: 'another-client' });
    await assertRefused(await throughForged());
  });

  it('refuses an ID token whose azp is another client', async () => {
    withClaims({ aud: [FORGED_CLIENT, 'another-client'], azp: 'another-client' });
    await assertRefused(await throughForged());
    // One audience (this client) and an azp naming another: OIDC Core §3.1.3.7 item 5 still refuses it.
    withClaims({ aud: FORGED_CLIENT, azp: 'another-client' });
    await assertRefused(await throughForged());
  });

  it('refuses an ID token from another issuer', async () => {
    withClaims({ iss: upstreamOidc().issuer });
    await assertRefused(await throughForged());
  });

  it('refuses an expired ID token', async () => {
    const now = Math.floor(Date.now() / 1000);
    withClaims({ iat: now - 7200, exp: now - 3600 });
    await assertRefused(await throughForged());
  });

  it('refuses an ID token signed with alg none', async () => {
    forged.answer({ idToken: async (claims) => unsignedIdToken(claims) });
    await assertRefused(await throughForged());
  });

  it('refuses an ID token signed HS256 with the upstream’s public key as the secret', async () => {
    forged.answer({ idToken: (claims) => hmacWithPublicKey(claims, forged.key) });
    await assertRefused(await throughForged());
  });

  it('refuses an ID token signed with a key the upstream does not publish', async () => {
    const stranger = await forgedKey(forged.key.kid);
    forged.answer({ idToken: (claims) => signIdToken(claims, stranger) });
    await assertRefused(await throughForged());
    const unknownKid = await forgedKey('kid-nobody-published');
    forged.answer({ idToken: (claims) => signIdToken(claims, unknownKid) });
    await assertRefused(await throughForged());
  });

  it('refuses an ID token whose at_hash is not the access token’s', async () => {
    withClaims({ at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' });
    await assertRefused(await throughForged());
  });

  it('refuses an authorization response from another issuer (RFC 9207 mix-up)', async () => {
    forged.answer({
      callback: (authorization) => ({
        code: authorization.code,
        state: authorization.params.get('state')!,
        iss: upstreamOidc().issuer,
      }),
    });
    await assertRefused(await throughForged());
    assert.equal(
      forged.redeemed.includes(forged.lastAuthorization()!.code),
      false,
      'the code was never sent anywhere',
    );
  });

  it('refuses an authorization response without iss from an upstream that promises one', async () => {
    forged.answer({
      callback: (authorization) => ({ code: authorization.code, state: authorization.params.get('state')! }),
    });
    await assertRefused(await throughForged());
  });

  it('refuses the callback with no pending request (login CSRF): nothing is exchanged, nobody signed in', async () => {
    forged.answer({});
    const stranger = new UserAgent(lock.issuer);
    const response = await stranger.request(
      `${lock.issuer}/sso/forged/callback?code=attackers-code&state=attackers-state&iss=${encodeURIComponent(forged.issuer)}`,
    );
    assert.equal(response.status, 400);
    assert.match(await response.text(), REFUSED);
    assert.equal(forged.redeemed.includes('attackers-code'), false);
    const unknown = await stranger.request(`${lock.issuer}/sso/nobody/callback?code=x&state=y`);
    assert.equal(unknown.status, 404, 'no such connector');
  });

  it('refuses a replayed code: the callback a second time, and the code under another request’s state', async () => {
    const agent = new UserAgent(lock.issuer);
    const request = await authorize('corp');
    const first = await signInThroughUpstream(agent, request.url.toString(), UPSTREAM_PEOPLE.grace, {
      stopAtCallback: true,
    });
    const done = await agent.follow(first.callback);
    assert.ok(done.left?.startsWith(`${CALLBACK}?code=`), 'the first use signs in');
    const again = await agent.follow(first.callback);
    assert.equal(again.left, undefined);
    assert.equal(again.response.status, 400);
    assert.match(await again.response.text(), /could not be accepted/);

    // The same code with the state of a fresh request of another browser: the upstream refuses it.
    const attacker = new UserAgent(lock.issuer);
    const fresh = await attacker.follow((await authorize('corp')).url.toString());
    const state = new URL(fresh.left!).searchParams.get('state')!;
    const replay = new URL(first.callback);
    replay.searchParams.set('state', state);
    const injected = await attacker.follow(replay.toString());
    assert.equal(injected.left, undefined);
    assert.equal(injected.response.status, 400);
    assert.match(await injected.response.text(), /could not be accepted/);
  });

  it('one callback followed 40 times at once signs in exactly once, and the code goes upstream once', async () => {
    forged.answer({});
    const agent = new UserAgent(lock.issuer);
    const toUpstream = await agent.follow((await authorize('forged')).url.toString());
    const callback = (await fetch(toUpstream.left!, { redirect: 'manual' })).headers.get('location')!;
    const requestsBefore = forged.tokenRequests();
    const results = await Promise.all(Array.from({ length: 40 }, () => agent.follow(callback)));
    const landed = results.filter((result) => result.left?.startsWith(`${CALLBACK}?code=`));
    assert.equal(landed.length, 1, 'exactly one sign-in');
    assert.equal(forged.tokenRequests() - requestsBefore, 1, 'the code went to the token endpoint once');
    for (const result of results.filter((each) => each.left === undefined))
      assert.equal(result.response.status, 400);
    await lock.database.pool.query("DELETE FROM identities WHERE connector = 'forged'");
  });

  it('a callback for a sign-in another browser started completes nowhere (the binding cookie)', async () => {
    forged.answer({});
    const attacker = new UserAgent(lock.issuer);
    const toUpstream = await attacker.follow((await authorize('forged')).url.toString());
    const callback = (await fetch(toUpstream.left!, { redirect: 'manual' })).headers.get('location')!;
    const victim = new UserAgent(lock.issuer);
    const result = await victim.follow(callback);
    assert.equal(result.left, undefined, 'the victim is not signed in as the attacker');
    assert.equal(result.response.status, 400);
    const { rows } = await lock.database.pool.query("SELECT 1 FROM identities WHERE connector = 'forged'");
    assert.equal(rows.length, 0, 'nobody was recorded');
  });

  it('an upstream person whose email is unverified does not become the Lock user with that email', async () => {
    const request = await authorize('corp');
    const result = await signInThroughUpstream(
      new UserAgent(lock.issuer),
      request.url.toString(),
      UPSTREAM_PEOPLE.eve,
    );
    assert.ok(
      result.landed?.startsWith(`${CALLBACK}?code=`),
      `${result.status} ${result.html.slice(0, 300)}`,
    );
    const tokens = await redeem(request, new URL(result.landed!));
    const id = tokens.claims()!;
    assert.equal(id.email, undefined, 'an unverified email is not carried');
    assert.equal(id.email_verified, undefined);
    assert.equal(id.idp, 'corp');
    assert.equal(id.preferred_username, 'eve');
    const access = decodeJwt(tokens.access_token);
    assert.deepEqual(access.roles, ['app_readonly'], 'eve’s own upstream groups, not alice’s roles');
    const { rows } = await lock.database.pool.query<{ connector: string; email: string | null }>(
      'SELECT connector, email FROM identities WHERE sub = $1',
      [id.sub],
    );
    assert.deepEqual(
      rows,
      [{ connector: 'corp', email: null }],
      'eve is recorded under the connector, without the email',
    );
    const alice = await lock.database.pool.query(
      "SELECT 1 FROM identities WHERE email = 'alice@example.com' AND connector <> 'local'",
    );
    assert.equal(alice.rowCount, 0, 'nobody of the upstream holds alice’s email');
  });
});
