import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, CALLBACK, loginConfig, signIn, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';

// RFC 6749 §4.1.2: a code is single use; used more than once, the server MUST deny the request and
// SHOULD revoke the tokens issued from it. RFC 9700 §4.14.2: a rotated refresh token presented
// again revokes the grant. Both must hold when the uses arrive at the same moment.
describe('codes and refresh tokens are single use under concurrency', () => {
  let lock: RunningLock;

  before(async () => {
    lock = await startLock({ config: loginConfig });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const token = (form: Record<string, string>) =>
    postForm(`${lock.issuer}/token`, form, ['web-app', WEB_SECRET]);

  /** Alice signs in to the web app (no resource: the access token is opaque, revocable). */
  const signedInCode = async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const url = new URL(`${lock.issuer}/auth`);
    for (const [name, value] of Object.entries({
      client_id: 'web-app',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: CALLBACK,
      state: 'st',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }))
      url.searchParams.set(name, value);
    const { landed } = await signIn(new UserAgent(lock.issuer), url.toString(), 'alice', ALICE_PASSWORD);
    assert.ok(landed, 'alice lands on the callback');
    const code = new URL(landed).searchParams.get('code');
    assert.ok(code);
    return { code, verifier };
  };
  const redeemCode = ({ code, verifier }: { code: string; verifier: string }) =>
    token({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier });
  const refresh = (refreshToken: string) =>
    token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  const userinfoStatus = async (accessToken: string) =>
    (await fetch(`${lock.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status;

  /** Exactly one 200; every other answer is invalid_grant. Returns the winner's tokens. */
  const oneWinner = (responses: Awaited<ReturnType<typeof token>>[]) => {
    const winners = responses.filter((response) => response.status === 200);
    assert.equal(
      winners.length,
      1,
      `exactly one redemption wins: ${responses.map((r) => r.status).join(',')}`,
    );
    for (const response of responses.filter((r) => r.status !== 200)) {
      assert.equal(response.status, 400);
      assert.equal(response.body.error, 'invalid_grant');
    }
    return winners[0]!.body as { access_token: string; refresh_token: string };
  };

  const auditedReuses = async (type: string) => {
    const read = async () =>
      Number(
        (await lock.database.pool.query('SELECT count(*) AS n FROM audit_events WHERE type = $1', [type]))
          .rows[0].n,
      );
    for (let attempt = 0; attempt < 50 && (await read()) === 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 20)); // written as the response leaves
    return read();
  };

  for (const concurrent of [2, 10, 40]) {
    it(`${concurrent} redemptions of one code at once: one wins, and its tokens are revoked`, async () => {
      const code = await signedInCode();
      const winner = oneWinner(await Promise.all(Array.from({ length: concurrent }, () => redeemCode(code))));
      assert.equal(await userinfoStatus(winner.access_token), 401, "the winner's access token is revoked");
      const afterwards = await refresh(winner.refresh_token);
      assert.equal(afterwards.body.error, 'invalid_grant', "the winner's refresh token is revoked");
      assert.ok((await auditedReuses('token.code_reuse_detected')) >= 1, 'the reuse is in the audit log');
    });

    it(`${concurrent} refreshes with one refresh token at once: one wins, and the grant is revoked`, async () => {
      const first = await redeemCode(await signedInCode());
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const original = first.body.refresh_token as string;
      const winner = oneWinner(
        await Promise.all(Array.from({ length: concurrent }, () => refresh(original))),
      );
      assert.notEqual(winner.refresh_token, original, 'the winner got a rotated refresh token');
      const afterwards = await refresh(winner.refresh_token);
      assert.equal(afterwards.body.error, 'invalid_grant', "the winner's rotated refresh token is revoked");
      assert.equal(await userinfoStatus(winner.access_token), 401, "the winner's access token is revoked");
      assert.ok((await auditedReuses('token.refresh_reuse_detected')) >= 1, 'the reuse is in the audit log');
    });
  }

  it('one redemption alone still works, and its refresh token rotates', async () => {
    const tokens = await redeemCode(await signedInCode());
    assert.equal(tokens.status, 200);
    assert.equal(await userinfoStatus(tokens.body.access_token as string), 200);
    const rotated = await refresh(tokens.body.refresh_token as string);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const again = await refresh(rotated.body.refresh_token as string);
    assert.equal(again.status, 200, 'a rotated refresh token works once');
  });
});
