import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { findFreePort } from '../../src/store/embedded-postgres.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, API, CALLBACK, loginConfig, signIn, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';
import { UserAgent } from '../helpers/user-agent.ts';

/** A load balancer without stickiness: each request goes to the next process in turn. */
function roundRobin(port: number, backends: () => number[]) {
  const servedBy: number[] = [];
  let next = 0;
  const server: Server = createServer((incoming, outgoing) => {
    const ports = backends();
    const backend = ports[next++ % ports.length]!;
    servedBy.push(backend);
    const forwarded = request(
      {
        host: '127.0.0.1',
        port: backend,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  return {
    servedBy,
    listen: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('two Lock processes behind a load balancer without sticky sessions', () => {
  let first: RunningLock;
  let second: RunningLock;
  let balancer: ReturnType<typeof roundRobin>;
  let issuer: string;

  before(async () => {
    const port = await findFreePort();
    issuer = `http://127.0.0.1:${port}`;
    // One issuer for both, as behind a real balancer; each process listens on a port of its own.
    first = await startLock({ config: loginConfig, env: { LOCK_ISSUER: issuer } });
    second = await startLock({
      database: first.database,
      keysDir: first.keysDir,
      env: { LOCK_ISSUER: issuer },
    });
    const portOf = (lock: RunningLock) => Number(new URL(lock.issuer).port);
    balancer = roundRobin(port, () => [portOf(first), portOf(second)]);
    await balancer.listen();
  });
  after(async () => {
    await balancer.close();
    await second.close();
    await first.close();
    await first.database.drop();
  });

  it('completes a sign-in whose steps land on different processes, and refreshes on either', async () => {
    const request = await startAuthorization(
      issuer,
      { id: 'web-app', secret: WEB_SECRET },
      { redirect_uri: CALLBACK, scope: 'openid profile', resource: API },
    );
    const servedBefore = balancer.servedBy.length;
    const { landed } = await signIn(new UserAgent(issuer), request.url.toString(), 'alice', ALICE_PASSWORD);
    assert.ok(landed?.startsWith(`${CALLBACK}?code=`), `landed on ${landed}`);
    const signInSteps = balancer.servedBy.slice(servedBefore);
    assert.ok(signInSteps.length >= 3, 'authorize, login page, form post, resume');
    assert.equal(new Set(signInSteps).size, 2, 'both processes served steps of the one sign-in');

    const tokens = await redeem(request, new URL(landed!));
    const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
    const access = await jwtVerify(tokens.access_token, jwks, { issuer, audience: API, typ: 'at+jwt' });
    assert.deepEqual(access.payload.roles, ['app_admin', 'app_readwrite']);
    assert.equal(tokens.claims()!.preferred_username, 'alice');

    // Rotating refresh tokens, each use on the other process than the last.
    let refreshToken = tokens.refresh_token!;
    for (let use = 0; use < 2; use++) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`web-app:${WEB_SECRET}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          resource: API,
        }),
      });
      const body = (await response.json()) as { refresh_token: string; access_token: string };
      assert.equal(response.status, 200, JSON.stringify(body));
      await jwtVerify(body.access_token, jwks, { issuer, audience: API });
      refreshToken = body.refresh_token;
    }
  });
});
