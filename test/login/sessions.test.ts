import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as oidc from 'openid-client';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, API, CALLBACK, loginConfig, signIn, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';

describe('session timeouts', () => {
  const started: RunningLock[] = [];
  after(async () => {
    for (const lock of started) {
      await lock.close();
      await lock.database.drop();
    }
  });

  /** A Lock with these limits, a signed-in browser, and a way to ask silently whether the session lives. */
  const signedIn = async (idle: number, maxAge: number) => {
    const lock = await startLock({
      config: loginConfig,
      env: { LOCK_SESSION_IDLE_TIMEOUT: String(idle), LOCK_SESSION_MAX_AGE: String(maxAge) },
    });
    started.push(lock);
    const web = await oidc.discovery(new URL(lock.issuer), 'web-app', WEB_SECRET, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const authorizationUrl = async (extra: Record<string, string> = {}) =>
      oidc
        .buildAuthorizationUrl(web, {
          redirect_uri: CALLBACK,
          scope: 'openid',
          resource: API,
          code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
          ...extra,
        })
        .toString();
    const agent = new UserAgent(lock.issuer);
    const { landed } = await signIn(agent, await authorizationUrl(), 'alice', ALICE_PASSWORD);
    assert.match(landed!, /code=/);
    const silently = async () => {
      const { left } = await agent.follow(await authorizationUrl({ prompt: 'none' }));
      return /[?&]code=/.test(left!) ? 'session' : new URL(left!).searchParams.get('error');
    };
    return silently;
  };

  it('ends a session left unused for the idle timeout', async () => {
    const silently = await signedIn(2, 600);
    assert.equal(await silently(), 'session');
    await sleep(3_200);
    assert.equal(await silently(), 'login_required');
  });

  it('ends a busy session at its maximum age', async () => {
    const silently = await signedIn(60, 3);
    assert.equal(await silently(), 'session');
    await sleep(1_200);
    assert.equal(await silently(), 'session', 'use keeps it alive before the maximum age');
    await sleep(2_300);
    assert.equal(await silently(), 'login_required');
  });
});
