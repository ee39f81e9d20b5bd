import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { findFreePort } from '../../src/store/embedded-postgres.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { API, CALLBACK, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { type AuthorizationRequest, redeem, startAuthorization } from '../helpers/relying-party.ts';
import {
  oidcLockConfig,
  peerConnectorConfig,
  registerUpstreamClient,
  signInThroughUpstream,
  UPSTREAM_PEOPLE,
  upstreamAdmin,
  upstreamOidc,
} from '../helpers/upstream-oidc.ts';
import { UserAgent } from '../helpers/user-agent.ts';

/** A TCP server that accepts connections and never answers: an upstream that hangs. */
async function startBlackhole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.5', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.5:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

// Sign-in through the upstream OpenID provider peer over plain HTTP: the login page, the upstream's
// own error answers, an upstream that is down or hangs, identities per connector, refreshInterval.
describe('oidc connector: sign-in through the upstream peer', () => {
  let lock: RunningLock;
  let blackhole: Awaited<ReturnType<typeof startBlackhole>>;

  before(async () => {
    blackhole = await startBlackhole();
    const [corp, twin, live] = [
      await registerUpstreamClient('corp'),
      await registerUpstreamClient('twin'),
      await registerUpstreamClient('live'),
    ];
    const closedPort = await findFreePort();
    const extra = (id: string, name: string, config: Record<string, unknown>) =>
      `  - id: ${id}\n    type: oidc\n    name: ${name}\n    config: ${JSON.stringify(config)}\n`;
    const config = oidcLockConfig({
      connectorId: 'corp',
      redirectUri: CALLBACK,
      connectorConfig: peerConnectorConfig(corp),
    }).replace(
      'roleMappings:',
      `${extra('twin', 'Twin SSO', peerConnectorConfig(twin))}${extra('live', 'Live SSO', peerConnectorConfig(live, { refreshInterval: 0 }))}${extra(
        'down',
        'Down SSO',
        {
          issuer: `http://127.0.0.1:${closedPort}`,
          clientId: 'lock',
          clientSecret: 'secret',
          allowInsecureIssuer: true,
        },
      )}${extra('slow', 'Slow SSO', {
        issuer: blackhole.url,
        clientId: 'lock',
        clientSecret: 'secret',
        allowInsecureIssuer: true,
        timeoutSeconds: 1,
      })}roleMappings:`,
    );
    lock = await startLock({ config });
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
    await blackhole?.close();
  });

  const authorize = (connector?: string) =>
    startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: WEB_SECRET },
      {
        redirect_uri: CALLBACK,
        scope: 'openid profile email groups',
        resource: API,
        ...(connector !== undefined && { connector }),
      },
    );

  it('the login page has a button per upstream connector; connector=<id> goes straight upstream', async () => {
    const agent = new UserAgent(lock.issuer);
    const page = await agent.follow((await authorize()).url.toString());
    const html = await page.response.text();
    assert.equal(page.response.status, 200);
    for (const [id, name] of [
      ['corp', 'Corporate SSO'],
      ['twin', 'Twin SSO'],
    ])
      assert.match(html, new RegExp(`href="/interaction/[^"/]+/sso/${id}">Sign in with ${name}<`));
    assert.match(html, /name="password"/, 'Lock’s own accounts still sign in with a password');

    const straight = await new UserAgent(lock.issuer).follow((await authorize('corp')).url.toString());
    const upstream = new URL(straight.left!);
    assert.equal(upstream.origin, upstreamOidc().issuer);
    assert.equal(upstream.searchParams.get('redirect_uri'), `${lock.issuer}/sso/corp/callback`);
    assert.equal(upstream.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(upstream.searchParams.get('scope'), 'openid profile email groups');
  });

  it('an upstream error answer (the person cancels: access_denied) is a message, not a 500', async () => {
    const agent = new UserAgent(lock.issuer);
    const toUpstream = await agent.follow((await authorize('corp')).url.toString());
    const upstream = new UserAgent(upstreamOidc().issuer);
    const page = await upstream.follow(toUpstream.left!);
    const abort = /action="(\/interaction\/[^"]+\/abort)"/.exec(await page.response.text())![1]!;
    const back = await upstream.follow(new URL(abort, page.url).toString(), { form: {} });
    const callback = new URL(back.left!);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    const shown = await agent.follow(callback.toString());
    assert.equal(shown.left, undefined);
    assert.equal(shown.response.status, 403);
    assert.match(await shown.response.text(), /Corporate SSO refused the sign-in/);
  });

  it('an upstream that is down: the page says sign-in is unavailable, within seconds', async () => {
    const started = performance.now();
    const shown = await new UserAgent(lock.issuer).follow((await authorize('down')).url.toString());
    assert.equal(shown.response.status, 503);
    assert.match(await shown.response.text(), /Sign-in with Down SSO is unavailable/);
    assert.ok(
      performance.now() - started < 3000,
      `answered after ${Math.round(performance.now() - started)} ms`,
    );
  });

  it('an upstream that hangs: Lock gives up after timeoutSeconds and says so', async () => {
    const started = performance.now();
    const shown = await new UserAgent(lock.issuer).follow((await authorize('slow')).url.toString());
    const elapsed = performance.now() - started;
    assert.equal(shown.response.status, 503);
    assert.match(await shown.response.text(), /Sign-in with Slow SSO is unavailable/);
    assert.ok(elapsed >= 900 && elapsed < 4000, `answered after ${Math.round(elapsed)} ms`);
  });

  it('one upstream person is a different Lock subject per connector, and the same one at each sign-in', async () => {
    const subjectVia = async (connector: string) => {
      const request = await authorize(connector);
      const result = await signInThroughUpstream(
        new UserAgent(lock.issuer),
        request.url.toString(),
        UPSTREAM_PEOPLE.grace,
      );
      assert.ok(
        result.landed?.startsWith(`${CALLBACK}?code=`),
        `${connector}: ${result.status} ${result.html.slice(0, 300)}`,
      );
      return (await redeem(request, new URL(result.landed!))).claims()!;
    };
    const corp = await subjectVia('corp');
    const twin = await subjectVia('twin');
    assert.notEqual(corp.sub, twin.sub, 'never linked across connectors');
    assert.equal(corp.idp, 'corp');
    assert.equal(twin.idp, 'twin');
    assert.equal((await subjectVia('corp')).sub, corp.sub, 'stable per (connector, iss + sub)');
    const { rows } = await lock.database.pool.query<{ upstream_id: string }>(
      "SELECT upstream_id FROM identities WHERE connector = 'corp' AND sub = $1",
      [corp.sub],
    );
    assert.deepEqual(rows, [{ upstream_id: `${upstreamOidc().issuer} ${UPSTREAM_PEOPLE.grace.sub}` }]);
  });

  it('a Lock refresh within refreshInterval does not ask the upstream again', async () => {
    const person = { username: `lee-${randomBytes(4).toString('hex')}`, password: 'lee-password' };
    await upstreamAdmin.addPerson({ ...person, groups: ['engineers'] });
    const request = await authorize('corp');
    const result = await signInThroughUpstream(new UserAgent(lock.issuer), request.url.toString(), person);
    const tokens = await redeem(request, new URL(result.landed!));
    await upstreamAdmin.setGroups(person.username, ['db-admins']);
    const refreshed = await oidc.refreshTokenGrant(request.config, tokens.refresh_token!, { resource: API });
    assert.deepEqual(
      decodeJwt(refreshed.access_token).roles,
      ['app_readonly'],
      'as read at sign-in (refreshInterval 300 s)',
    );
    // The upstream refresh token is kept sealed, never in the clear.
    const { rows } = await lock.database.pool.query<{ refresh_token: string }>(
      "SELECT refresh_token FROM upstream_tokens WHERE connector = 'corp' AND refresh_token IS NOT NULL",
    );
    assert.ok(rows.length > 0);
    for (const row of rows) assert.match(row.refresh_token, /^v1:/);
  });

  it('Lock refreshes of one person racing each other use the upstream’s rotating refresh token once at a time', async () => {
    const person = { username: `ray-${randomBytes(4).toString('hex')}`, password: 'ray-password' };
    await upstreamAdmin.addPerson({ ...person, groups: ['engineers'] });
    // Ten sessions of one person (ten Lock refresh tokens); the upstream token Lock keeps is the last one's.
    const sessions: Array<{ request: AuthorizationRequest; tokens: oidc.TokenEndpointResponse }> = [];
    for (let i = 0; i < 10; i++) {
      const request = await authorize('live');
      const result = await signInThroughUpstream(new UserAgent(lock.issuer), request.url.toString(), person);
      sessions.push({ request, tokens: await redeem(request, new URL(result.landed!)) });
    }
    const refreshAll = () =>
      Promise.allSettled(
        sessions.map(async (session) => {
          const next = await oidc.refreshTokenGrant(session.request.config, session.tokens.refresh_token!, {
            resource: API,
          });
          session.tokens = next;
          return decodeJwt(next.access_token).roles;
        }),
      );
    for (const round of [1, 2]) {
      const results = await refreshAll();
      const refused = results.filter((result) => result.status === 'rejected');
      assert.deepEqual(
        refused,
        [],
        `round ${round}: no refresh refused (an upstream token used twice revokes the grant)`,
      );
    }
  });
});
