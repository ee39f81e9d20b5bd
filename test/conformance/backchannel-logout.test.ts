import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';
import { eventually } from '../admin/admin-api.ts';
import { assertAllEndpointsHttps, fetchDiscovery } from './discovery-checks.ts';
import {
  assertLoggedOut,
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

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** The suite's /backchannel_logout endpoint: records each request's method, content type and form. */
async function logoutReceiver() {
  const received: { method: string; contentType: string; form: URLSearchParams }[] = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    received.push({
      method: request.method ?? '',
      contentType: String(request.headers['content-type']),
      form: new URLSearchParams(Buffer.concat(chunks).toString()),
    });
    response.writeHead(200, { 'cache-control': 'no-store' }).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/test/a/lock/backchannel_logout`,
    received,
    close: () => server.close(),
  };
}

/**
 * The OpenID Foundation's Back-Channel Logout OP plan
 * (oidcc-backchannel-rp-initiated-logout-certification-test-plan): one test per module. The
 * client registers a back-channel logout URI with backchannel_logout_session_required.
 */
describe('Back-channel logout OP conformance (oidcc-backchannel-rp-initiated-logout-certification-test-plan)', () => {
  let op: Op;
  let receiver: Awaited<ReturnType<typeof logoutReceiver>>;
  const clientLines = () => [
    `backchannelLogoutUri: ${receiver.uri}`,
    'backchannelLogoutSessionRequired: true',
  ];
  before(async () => {
    receiver = await logoutReceiver();
    op = await startOp(clientLines());
  });
  after(async () => {
    await op.lock.close();
    await op.lock.database.drop();
    receiver.close();
  });

  it('oidcc-backchannel-logout-discovery-endpoint-verification', async () => {
    const tls = await startTlsOp(clientLines());
    try {
      const discovery = await fetchDiscovery(tls);
      assert.equal(
        discovery.backchannel_logout_supported,
        true,
        'CheckDiscEndpointBackchannelLogoutSupported',
      );
      assert.equal(
        discovery.backchannel_logout_session_supported,
        true,
        'sid is supported (required for certification)',
      );
      assert.equal(
        discovery.end_session_endpoint,
        `${tls.lock.issuer}/session/end`,
        'CheckDiscEndSessionEndpoint',
      );
      assertAllEndpointsHttps(discovery);
    } finally {
      await tls.lock.close();
      await tls.lock.database.drop();
    }
  });

  it('oidcc-backchannel-rp-initiated-logout', async () => {
    const agent = browser(op);
    const { tokens, idToken } = await happyFlow(op, agent);
    assert.equal(typeof idToken.sid, 'string', 'the ID token carries sid (session required)');
    const state = random();
    const ended = await endSession(op, agent, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: POST_LOGOUT,
      state,
    });
    const done = await ended.confirm();
    // The browser is sent to the post_logout_redirect_uri with state.
    assert.ok(done.left);
    const back = new URL(done.left);
    assert.equal(`${back.origin}${back.pathname}`, POST_LOGOUT);
    assert.deepEqual(Object.fromEntries(back.searchParams), { state });

    // The OP calls the backchannel_logout_uri: one POST, form-encoded, logout_token only.
    const [request] = await eventually('the logout token arrives', async () =>
      receiver.received.length > 0 ? receiver.received : undefined,
    );
    assert.equal(request!.method, 'POST');
    assert.match(request!.contentType, /^application\/x-www-form-urlencoded/);
    assert.deepEqual(
      [...request!.form.keys()],
      ['logout_token'],
      'CheckForUnexpectedParametersInBackchannelLogoutRequest',
    );
    const logoutToken = request!.form.get('logout_token')!;

    // ValidateLogoutTokenSignature: signed by a key of jwks_uri with the ID token's algorithm.
    assert.equal(
      decodeProtectedHeader(logoutToken).alg,
      decodeProtectedHeader(tokens.id_token as string).alg,
    );
    const { payload } = await jwtVerify<JWTPayload & { sid?: string; events?: Record<string, unknown> }>(
      logoutToken,
      op.jwks,
      { issuer: op.discovery.issuer, audience: CLIENT },
    );
    // ValidateLogoutTokenClaims: iss, aud (above), iat not in the future nor a day old, jti, events.
    const now = Date.now() / 1000;
    assert.ok(payload.iat! <= now + 5 && payload.iat! > now - 86_400, 'iat is now');
    assert.equal(typeof payload.jti, 'string');
    assert.deepEqual(
      payload.events,
      { [EVENT]: {} },
      'exactly the back-channel logout event, an empty object',
    );
    // CheckLogoutTokenHasSubOrSid, and they name this session; CheckLogoutTokenNoNonce.
    assert.equal(payload.sid, idToken.sid);
    assert.equal(payload.sub, idToken.sub);
    assert.ok(!('nonce' in payload));

    // Then prompt=none must fail: the user is logged out.
    await assertLoggedOut(op, agent);
  });
});
