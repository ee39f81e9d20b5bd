import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { GitHubLike } from '../helpers/github-like.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, signInToWebApp } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import {
  answerUpstream,
  finishUpstreamSignIn,
  pageText,
  refreshAt,
  startUpstreamSignIn,
  upstreamLockConfig,
  upstreamSignIn,
} from './upstream-flow.ts';

const FAILED = /Sign-in with GitHub failed/;

// The attacker, mallory, has an account at the GitHub-like server and wants to be someone else at
// Lock, or to sign a victim's browser in as herself. Each refusal is followed, where it can be, by
// the untouched answer being accepted: the refusal was the tampering's doing.
describe('oauth2 connector refuses what is not its own sign-in', () => {
  let github: GitHubLike;
  let lock: RunningLock;
  let deadPort: number;

  before(async () => {
    github = await GitHubLike.start({
      users: [
        { id: 1001, login: 'octocat', email: 'octocat@example.com', name: 'Mona', orgs: ['all-staff'] },
        // Claims alice's address, which the upstream never verified.
        { id: 1002, login: 'mallory', email: 'alice@example.com', name: 'Alice', orgs: ['admins'] },
      ],
    });
    deadPort = await closedPort();
    lock = await startLock({
      config: upstreamLockConfig(
        [
          { id: 'github', type: 'oauth2', name: 'GitHub', config: github.connectorConfig() },
          {
            id: 'github-trusting',
            type: 'oauth2',
            name: 'GitHub (trusted email)',
            config: github.connectorConfig({ trustEmail: true }),
          },
          {
            id: 'github-down',
            type: 'oauth2',
            name: 'GitHub',
            config: github.connectorConfig({
              tokenUrl: `http://127.0.0.1:${deadPort}/login/oauth/access_token`,
            }),
          },
          {
            id: 'github-refreshing',
            type: 'oauth2',
            name: 'GitHub',
            config: github.connectorConfig({ refreshInterval: 0 }),
          },
          {
            id: 'github-slow',
            type: 'oauth2',
            name: 'GitHub',
            config: github.connectorConfig({ timeoutSeconds: 1 }),
          },
        ],
        {
          users: [
            `{ username: alice, email: alice@example.com, password: "${ALICE_PASSWORD}", groups: [all-staff] }`,
          ],
        },
      ),
    });
    for (const id of ['github', 'github-trusting', 'github-down', 'github-refreshing', 'github-slow'])
      github.redirectUris.add(`${lock.issuer}/sso/${id}/callback`);
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
    await github?.close();
  });

  async function lastAuditReason(connector = 'github'): Promise<string> {
    const { rows } = await lock.database.pool.query<{ reason: string }>(
      "SELECT reason FROM audit_events WHERE type = 'login.oauth2' AND connector = $1 ORDER BY id DESC LIMIT 1",
      [connector],
    );
    return rows[0]?.reason ?? '';
  }

  it('sends PKCE S256 and a state of its own, and redirects back to /sso/<id>/callback', async () => {
    const started = await startUpstreamSignIn(lock, 'github');
    const query = started.upstreamUrl.searchParams;
    assert.equal(started.upstreamUrl.origin, github.url);
    assert.equal(query.get('redirect_uri'), `${lock.issuer}/sso/github/callback`);
    assert.equal(query.get('code_challenge_method'), 'S256');
    assert.match(query.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(query.get('state') ?? '', /^[A-Za-z0-9_-]{43,}$/);
    assert.notEqual(query.get('state'), started.request.state, 'not the client’s state');
    assert.equal(query.get('scope'), 'read:user read:org');
  });

  it('a wrong state is refused; the right one then signs in', async () => {
    github.signedIn = 'octocat';
    const started = await startUpstreamSignIn(lock, 'github');
    const callback = await answerUpstream(started.upstreamUrl);
    const forged = new URL(callback);
    forged.searchParams.set('state', randomBytes(32).toString('base64url'));
    const refused = await finishUpstreamSignIn(lock, started, forged);
    assert.equal(refused.status, 400, refused.page);
    assert.equal(refused.tokens, undefined);
    assert.match(refused.page, FAILED);
    assert.doesNotMatch(refused.page, /state|pending/i, 'no internals for the user');
    assert.match(await lastAuditReason(), /names no request this connector sent/);

    const accepted = await finishUpstreamSignIn(lock, started, callback);
    assert.ok(accepted.tokens, `${accepted.status} ${accepted.page}`);
    assert.equal(accepted.idToken?.preferred_username, 'octocat');
    assert.equal(accepted.access?.idp, 'github');
  });

  it('a replayed callback is refused: the pending request was used once', async () => {
    github.signedIn = 'octocat';
    const started = await startUpstreamSignIn(lock, 'github');
    const callback = await answerUpstream(started.upstreamUrl);
    const first = await finishUpstreamSignIn(lock, started, callback);
    assert.ok(first.tokens, `${first.status} ${first.page}`);
    const again = await finishUpstreamSignIn(lock, started, callback);
    assert.equal(again.status, 400);
    assert.equal(again.tokens, undefined);
    assert.match(again.page, FAILED);
  });

  it('a used code under a new sign-in’s state is refused by the upstream, and so by Lock', async () => {
    github.signedIn = 'octocat';
    const earlier = await startUpstreamSignIn(lock, 'github');
    const used = await answerUpstream(earlier.upstreamUrl);
    assert.ok((await finishUpstreamSignIn(lock, earlier, used)).tokens);

    const started = await startUpstreamSignIn(lock, 'github');
    const replay = new URL(`${lock.issuer}/sso/github/callback`);
    replay.searchParams.set('code', used.searchParams.get('code')!);
    replay.searchParams.set('state', started.upstreamUrl.searchParams.get('state')!);
    const refused = await finishUpstreamSignIn(lock, started, replay);
    assert.equal(refused.status, 400, refused.page);
    assert.equal(refused.tokens, undefined);
    assert.match(refused.page, FAILED);
    assert.match(await lastAuditReason(), /code refused upstream: .*bad_verification_code/);
  });

  it('one answer taken to Lock 40 times at once is accepted once', async () => {
    github.signedIn = 'octocat';
    const started = await startUpstreamSignIn(lock, 'github');
    const callback = await answerUpstream(started.upstreamUrl);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => fetch(callback, { redirect: 'manual' })),
    );
    const statuses = answers.map((answer) => answer.status).sort((a, b) => a - b);
    assert.deepEqual(statuses, [303, ...Array(39).fill(400)], statuses.join(' '));
  });

  it('racing Lock refreshes of one person use the rotating upstream refresh token once', async () => {
    github.refreshTokens = true;
    try {
      github.signedIn = 'octocat';
      const sessions = [];
      for (let i = 0; i < 8; i++) sessions.push(await upstreamSignIn(lock, 'github-refreshing'));
      for (const session of sessions) assert.ok(session.tokens, `${session.status} ${session.page}`);
      const refreshes = await Promise.all(
        sessions.map((session) => refreshAt(lock, session.tokens!.refresh_token!)),
      );
      for (const refreshed of refreshes)
        assert.deepEqual(refreshed.access?.roles, ['app_readonly'], JSON.stringify(refreshed));
      // The person's upstream session still works: its token was not spent by a loser of the race.
      const after = await refreshAt(lock, refreshes[0]!.refreshToken!);
      assert.deepEqual(after.access?.roles, ['app_readonly'], JSON.stringify(after));
    } finally {
      github.refreshTokens = false;
    }
  });

  it('a callback with no pending request (login CSRF) is refused, and one from another browser completes nothing', async () => {
    // A state Lock never sent.
    const victim = new UserAgent(lock.issuer);
    const forged = await victim.follow(
      `${lock.issuer}/sso/github/callback?code=${randomBytes(16).toString('hex')}&state=${randomBytes(32).toString('base64url')}`,
    );
    assert.equal(forged.response.status, 400);
    assert.match(pageText(await forged.response.text()), FAILED);

    // Mallory's own, real answer, taken to the victim's browser: it has neither the interaction nor the binding.
    github.signedIn = 'mallory';
    const mallorys = await startUpstreamSignIn(lock, 'github');
    const callback = await answerUpstream(mallorys.upstreamUrl);
    const planted = await victim.follow(callback.toString());
    assert.equal(planted.left, undefined, 'the victim is not sent on to the client');
    assert.equal(planted.response.status, 400);
    // Nor may mallory's browser take it afterwards: the answer was spent on the victim's.
    const after = await finishUpstreamSignIn(lock, mallorys, callback);
    assert.equal(after.tokens, undefined);
  });

  it('an upstream error=access_denied is shown as a message, not a 500', async () => {
    github.signedIn = undefined; // the user clicks "Cancel" upstream
    const started = await startUpstreamSignIn(lock, 'github');
    const callback = await answerUpstream(started.upstreamUrl);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    const refused = await finishUpstreamSignIn(lock, started, callback);
    assert.equal(refused.status, 403);
    assert.match(refused.page, /GitHub refused the sign-in/);
    assert.match(await lastAuditReason(), /access_denied/);
  });

  it('an upstream that is down: the page says sign-in is unavailable, at once', async () => {
    github.signedIn = 'octocat';
    const began = performance.now();
    const result = await upstreamSignIn(lock, 'github-down');
    assert.equal(result.status, 503, result.page);
    assert.match(result.page, /Sign-in with GitHub is unavailable/);
    assert.ok(performance.now() - began < 3000);
    assert.match(await lastAuditReason('github-down'), /token endpoint failed: ECONNREFUSED/);
  });

  it('an upstream that does not answer: the page says so after the timeout, not later', async () => {
    github.signedIn = 'octocat';
    github.delayMs = 30_000;
    try {
      const began = performance.now();
      const result = await upstreamSignIn(lock, 'github-slow');
      const elapsed = performance.now() - began;
      assert.equal(result.status, 503, result.page);
      assert.match(result.page, /Sign-in with GitHub is unavailable/);
      assert.ok(elapsed >= 900 && elapsed < 4000, `answered after ${Math.round(elapsed)} ms`);
      assert.match(await lastAuditReason('github-slow'), /did not answer within 1 s/);
    } finally {
      github.delayMs = 0;
    }
  });

  it('an upstream email that is not trusted does not make mallory alice', async () => {
    const alice = await signInToWebApp(lock.issuer, 'alice', ALICE_PASSWORD);
    const aliceSub = alice.tokens!.claims()!.sub;

    github.signedIn = 'mallory';
    const mallory = await upstreamSignIn(lock, 'github');
    assert.ok(mallory.tokens, `${mallory.status} ${mallory.page}`);
    assert.notEqual(mallory.idToken?.sub, aliceSub);
    assert.equal(mallory.idToken?.preferred_username, 'mallory');
    assert.equal(mallory.idToken?.email, undefined, 'an untrusted address is not carried');
    assert.equal(mallory.idToken?.email_verified, undefined);
    assert.deepEqual(mallory.access?.roles, ['app_admin'], 'her own groups, not alice’s');

    // Even where the admin trusts the upstream's addresses, an address links nobody.
    const trusted = await upstreamSignIn(lock, 'github-trusting');
    assert.ok(trusted.tokens, `${trusted.status} ${trusted.page}`);
    assert.equal(trusted.idToken?.email, 'alice@example.com');
    assert.equal(trusted.idToken?.email_verified, true, 'Lock’s token says the admin vouches for it');
    assert.notEqual(trusted.idToken?.sub, aliceSub);
    assert.notEqual(trusted.idToken?.sub, mallory.idToken?.sub, 'another connector, another sub');
    assert.equal(trusted.access?.idp, 'github-trusting');
  });
});

/** A port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
