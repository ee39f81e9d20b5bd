import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { assertAllEndpointsHttps, fetchDiscovery } from './discovery-checks.ts';
import {
  assertLoggedOut,
  assertStillLoggedIn,
  browser,
  CLIENT,
  endSession,
  happyFlow,
  type Op,
  POST_LOGOUT,
  random,
  startOp,
  startTlsOp,
} from './op.ts';

/**
 * The OpenID Foundation's RP-Initiated Logout OP plan
 * (oidcc-rp-initiated-logout-certification-test-plan): one test per module. Each signs in,
 * then sends the browser to the end_session_endpoint. Lock always asks "Sign out of Lock?" (a
 * link alone signs no one out); where a module allows "confirm with the user", the test confirms.
 */
describe('RP-initiated logout OP conformance (oidcc-rp-initiated-logout-certification-test-plan)', () => {
  let op: Op;
  before(async () => {
    op = await startOp();
  });
  after(async () => {
    await op.lock.close();
    await op.lock.database.drop();
  });

  const signedIn = async () => {
    const agent = browser(op);
    const { tokens } = await happyFlow(op, agent);
    return { agent, idToken: tokens.id_token as string };
  };

  /** The module's "must not redirect back": no step takes the browser to the client, even after confirming. */
  const assertNotRedirectedBack = async (ended: Awaited<ReturnType<typeof endSession>>) => {
    assert.equal(ended.left, undefined, 'not sent to the client');
    if (ended.asksToConfirm) {
      const confirmed = await ended.confirm();
      assert.equal(confirmed.left, undefined, 'not sent to the client after confirming either');
    } else {
      assert.equal(ended.status, 400, 'an error page');
    }
  };

  it('oidcc-rp-initiated-logout-discovery-endpoint-verification', async () => {
    const tls = await startTlsOp();
    try {
      const discovery = await fetchDiscovery(tls);
      assert.equal(discovery.end_session_endpoint, `${tls.lock.issuer}/session/end`);
      assertAllEndpointsHttps(discovery);
    } finally {
      await tls.lock.close();
      await tls.lock.database.drop();
    }
  });

  it('oidcc-rp-initiated-logout', async () => {
    const { agent, idToken } = await signedIn();
    const state = random();
    const ended = await endSession(op, agent, {
      id_token_hint: idToken,
      post_logout_redirect_uri: POST_LOGOUT,
      state,
    });
    const done = await ended.confirm();
    assert.ok(done.left, 'sent to the post_logout_redirect_uri');
    const back = new URL(done.left);
    assert.equal(`${back.origin}${back.pathname}`, POST_LOGOUT);
    assert.equal(back.searchParams.get('state'), state, 'CheckPostLogoutState');
    assert.deepEqual(
      [...back.searchParams.keys()],
      ['state'],
      'CheckForUnexpectedParametersInPostLogoutRedirect',
    );
    await assertLoggedOut(op, agent);
  });

  it('oidcc-rp-initiated-logout-bad-post-logout-redirect-uri', async () => {
    const { agent, idToken } = await signedIn();
    const ended = await endSession(op, agent, {
      id_token_hint: idToken,
      post_logout_redirect_uri: 'https://rp.example.com/not-registered',
      state: random(),
    });
    await assertNotRedirectedBack(ended);
  });

  it('oidcc-rp-initiated-logout-modified-id-token-hint', async () => {
    const { agent, idToken } = await signedIn();
    const [, payload] = idToken.split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    const ended = await endSession(op, agent, {
      id_token_hint: unsigned,
      post_logout_redirect_uri: POST_LOGOUT,
      state: random(),
    });
    await assertNotRedirectedBack(ended);
    await assertStillLoggedIn(op, agent);
  });

  it('oidcc-rp-initiated-logout-no-id-token-hint', async () => {
    const { agent } = await signedIn();
    const ended = await endSession(op, agent, { post_logout_redirect_uri: POST_LOGOUT, state: random() });
    await assertNotRedirectedBack(ended);
  });

  it('oidcc-rp-initiated-logout-no-params', async () => {
    const { agent } = await signedIn();
    const ended = await endSession(op, agent, {});
    assert.equal(ended.left, undefined);
    const done = await ended.confirm();
    assert.equal(done.left, undefined, "Lock's own signed-out page");
    assert.match(done.html, /signed out/i);
    await assertLoggedOut(op, agent);
  });

  it('oidcc-rp-initiated-logout-no-post-logout-redirect-uri', async () => {
    const { agent, idToken } = await signedIn();
    const done = await (await endSession(op, agent, { id_token_hint: idToken, state: random() })).confirm();
    assert.equal(done.left, undefined);
    assert.match(done.html, /signed out/i);
    await assertLoggedOut(op, agent);
  });

  it('oidcc-rp-initiated-logout-no-state', async () => {
    const { agent, idToken } = await signedIn();
    const done = await (
      await endSession(op, agent, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT })
    ).confirm();
    assert.ok(done.left);
    const back = new URL(done.left);
    assert.equal(`${back.origin}${back.pathname}`, POST_LOGOUT);
    assert.equal(back.search, '', 'no state, no parameters');
    await assertLoggedOut(op, agent);
  });

  it('oidcc-rp-initiated-logout-only-state', async () => {
    const { agent } = await signedIn();
    const done = await (await endSession(op, agent, { state: random() })).confirm();
    assert.equal(done.left, undefined, 'no post_logout_redirect_uri: nowhere to send state');
    assert.match(done.html, /signed out/i);
    await assertLoggedOut(op, agent);
  });

  it('oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri', async () => {
    const { agent, idToken } = await signedIn();
    const ended = await endSession(op, agent, {
      id_token_hint: idToken,
      post_logout_redirect_uri: `${POST_LOGOUT}?foo=bar`,
      state: random(),
    });
    await assertNotRedirectedBack(ended);
  });

  it('oidcc-rp-initiated-logout-bad-id-token-hint', async () => {
    const { agent, idToken } = await signedIn();
    // The same claims, signed by a key of the test's own (the suite's), not Lock's.
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString());
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: (await exportJWK(publicKey)).n!.slice(0, 8) })
      .sign(privateKey);
    const ended = await endSession(op, agent, {
      id_token_hint: forged,
      post_logout_redirect_uri: POST_LOGOUT,
      state: random(),
    });
    await assertNotRedirectedBack(ended);
    await assertStillLoggedIn(op, agent);
    assert.equal(claims.aud, CLIENT);
  });
});
