import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { accountSignIn, csrfOf, listedSessions, post } from '../helpers/account-agent.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { BOB_PASSWORD, CALLBACK, signIn, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';
import { UserAgent } from '../helpers/user-agent.ts';

// A session the person ends on /account is announced to the applications signed in through it
// (OIDC Back-Channel Logout), with the `sid` they were given.
describe('/account: ending a session tells its applications', () => {
  const tokens: string[] = [];
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      tokens.push(new URLSearchParams(Buffer.concat(chunks).toString()).get('logout_token') ?? '');
      response.writeHead(200).end();
    });
  });
  let lock: RunningLock;

  before(async () => {
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const port = (receiver.address() as AddressInfo).port;
    lock = await startLock({
      config: `
clients:
  - clientId: notes
    clientSecret: ${WEB_SECRET}
    name: Notes
    firstParty: true
    redirectUris: [${CALLBACK}]
    backchannelLogoutUri: http://127.0.0.1:${port}/bcl
    backchannelLogoutSessionRequired: true
users:
  - { username: bob, password: "${BOB_PASSWORD}" }
`,
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
    receiver.close();
  });

  it('sends the logout token with the ended session’s sid, and audits the delivery', async () => {
    const request = await startAuthorization(
      lock.issuer,
      { id: 'notes', secret: WEB_SECRET },
      { redirect_uri: CALLBACK, scope: 'openid' },
    );
    const device = await signIn(new UserAgent(lock.issuer), request.url.toString(), 'bob', BOB_PASSWORD);
    const idToken = decodeJwt((await redeem(request, new URL(device.landed!))).id_token!);
    assert.ok(idToken.sid);

    const bob = await accountSignIn(lock.issuer, 'bob', BOB_PASSWORD);
    assert.match(bob.html, /Signed in to Notes/);
    const [session] = listedSessions(bob.html);
    const ended = await post(bob.agent, lock.issuer, '/account/sessions/end', {
      csrf: csrfOf(bob.html),
      session: session!,
    });
    assert.equal(ended.headers.get('location'), '/account?done=sessions.ended#sessions');

    for (let waited = 0; tokens.length === 0 && waited < 100; waited++) await sleep(50);
    assert.equal(tokens.length, 1);
    const logout = decodeJwt(tokens[0]!);
    assert.equal(logout.sub, idToken.sub);
    assert.equal(logout.sid, idToken.sid);
    assert.equal(logout.aud, 'notes');
    let audited: Array<{ details: Record<string, unknown> }> = [];
    for (let waited = 0; audited.length === 0 && waited < 100; waited++) {
      audited = (
        await lock.database.pool.query<{ details: Record<string, unknown> }>(
          "SELECT details FROM audit_events WHERE type = 'logout.backchannel'",
        )
      ).rows;
      if (audited.length === 0) await sleep(50);
    }
    assert.equal(audited[0]?.details.trigger, 'account.session_ended');
  });
});
