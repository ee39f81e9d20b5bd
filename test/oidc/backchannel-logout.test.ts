import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { BackchannelLogout, type DeliveryOutcome } from '../../src/oidc/backchannel-logout.ts';
import { findFreePort } from '../../src/store/embedded-postgres.ts';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken, eventually } from '../admin/admin-api.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { CALLBACK, signIn } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const SECRET = 'backchannel-secret-0123456789';
const PASSWORD = 'correct horse battery staple';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'henry'] as const;

interface Received {
  clientId: string;
  /** The logout token's `alg`: the client's ID token algorithm. */
  alg: string;
  payload: JWTPayload & { sid?: string; events?: Record<string, unknown> };
}

/**
 * The relying parties' back-channel logout endpoints, as a client would write them (OIDC
 * Back-Channel Logout 1.0 §2.6): the logout token's signature checked against Lock's JWKS, then
 * iss, aud, iat/exp, typ, the event, sub or sid, no nonce, a jti not seen before. A valid token gets
 * 200, anything else 400. `/flaky/` answers 503 to the first two posts; `/hang/` never answers.
 */
class RelyingParty {
  readonly received: Received[] = [];
  readonly rejected: string[] = [];
  readonly posts = new Map<string, number>();
  readonly #seenJti = new Set<string>();
  readonly #server: Server;
  readonly #hanging = new Set<ServerResponse>();
  #jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  #issuer = '';
  port = 0;

  constructor() {
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error) => {
        this.rejected.push(String(error));
        response.writeHead(500).end();
      });
    });
  }

  async start() {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.port = (this.#server.address() as AddressInfo).port;
  }

  trust(issuer: string, jwksUri: string) {
    this.#issuer = issuer;
    this.#jwks = createRemoteJWKSet(new URL(jwksUri));
  }

  uri(kind: 'bcl' | 'flaky' | 'hang' | 'reject', clientId: string) {
    return `http://127.0.0.1:${this.port}/${kind}/${clientId}`;
  }

  async close() {
    for (const response of this.#hanging) response.destroy();
    this.#server.closeAllConnections();
    this.#server.close();
  }

  /** The logout tokens `clientId` accepted for `sub`. */
  tokensFor(clientId: string, sub: string) {
    return this.received.filter((each) => each.clientId === clientId && each.payload.sub === sub);
  }

  async #handle(request: IncomingMessage, response: ServerResponse) {
    const [, kind, clientId] = (request.url ?? '').split('/');
    const key = `${kind}/${clientId}`;
    this.posts.set(key, (this.posts.get(key) ?? 0) + 1);
    if (kind === 'hang') {
      this.#hanging.add(response);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (kind === 'flaky' && this.posts.get(key)! <= 2) return void response.writeHead(503).end();
    if (kind === 'reject') return void response.writeHead(400).end();
    assert.equal(request.method, 'POST');
    assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
    const token = new URLSearchParams(Buffer.concat(chunks).toString()).get('logout_token') ?? '';
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.#jwks!, {
        issuer: this.#issuer,
        audience: clientId!,
        typ: 'logout+jwt',
        maxTokenAge: '2 minutes',
        requiredClaims: ['iat', 'exp', 'jti', 'events'],
      });
      const events = payload.events as Record<string, unknown>;
      assert.deepEqual(events[EVENT], {}, 'the back-channel logout event');
      assert.ok(!('nonce' in payload), 'a logout token has no nonce');
      assert.ok(typeof payload.sub === 'string' || typeof payload.sid === 'string', 'sub or sid');
      assert.ok(!this.#seenJti.has(payload.jti!), 'a jti is never reused');
      this.#seenJti.add(payload.jti!);
      this.received.push({
        clientId: clientId!,
        alg: protectedHeader.alg,
        payload: payload as Received['payload'],
      });
      response.writeHead(200, { 'cache-control': 'no-store' }).end();
    } catch (error) {
      this.rejected.push(`${clientId}: ${(error as Error).message}`);
      response.writeHead(400).end();
    }
  }
}

describe('OIDC Back-Channel Logout: relying parties receive signed logout tokens for every way a session ends', () => {
  const rp = new RelyingParty();
  let deadPort: number;
  let lock: RunningLock;
  let api: AdminApi;
  const userIds = new Map<string, string>();

  const client = (id: string, logoutUri: string, sessionRequired = false, idTokenSigningAlg = 'RS256') => `
  - clientId: ${id}
    clientSecret: ${SECRET}
    firstParty: true
    redirectUris: [${CALLBACK}]
    backchannelLogoutUri: ${logoutUri}
    backchannelLogoutSessionRequired: ${sessionRequired}
    idTokenSigningAlg: ${idTokenSigningAlg}`;

  before(async () => {
    await rp.start();
    deadPort = await findFreePort();
    const config = `
clients:${client('web-app', rp.uri('bcl', 'web-app'), true)}${client('second-app', rp.uri('bcl', 'second-app'), false, 'EdDSA')}${client(
      'dead-app',
      `http://127.0.0.1:${deadPort}/logout`,
    )}${client('hang-app', rp.uri('hang', 'hang-app'))}${client('flaky-app', rp.uri('flaky', 'flaky-app'))}${client('reject-app', rp.uri('reject', 'reject-app'))}
  - clientId: no-logout-app
    clientSecret: ${SECRET}
    firstParty: true
    redirectUris: [${CALLBACK}]
connectors:
  - { id: local, type: local, name: Lock account }
users:
${USERS.map((name) => `  - { username: ${name}, email: ${name}@example.com, password: "${PASSWORD}" }`).join('\n')}
`;
    lock = await startLock({ config, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    const discovery = await (await fetch(`${lock.issuer}/.well-known/openid-configuration`)).json();
    rp.trust(lock.issuer, discovery.jwks_uri);
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    for (const name of USERS) {
      const found = await api('GET', `/users?search=${name}`);
      userIds.set(name, found.body.items.find((user: { username: string }) => user.username === name).id);
    }
  });
  after(async () => {
    await lock.close();
    await rp.close();
    await lock.database.drop();
  });

  /** `username` signs in to each client in one browser (one session at Lock); their ID tokens' claims. */
  const signInTo = async (username: string, clientIds: string[]) => {
    const agent = new UserAgent(lock.issuer);
    const idTokens = new Map<string, JWTPayload & { sid?: string }>();
    const raw = new Map<string, string>();
    for (const clientId of clientIds) {
      const request = await startAuthorization(
        lock.issuer,
        { id: clientId, secret: SECRET },
        { redirect_uri: CALLBACK, scope: 'openid' },
      );
      const result = await signIn(agent, request.url.toString(), username, PASSWORD);
      assert.ok(result.landed, `${username} lands on ${clientId}: ${result.html.slice(0, 300)}`);
      const tokens = await redeem(request, new URL(result.landed));
      idTokens.set(clientId, decodeJwt(tokens.id_token!));
      raw.set(clientId, tokens.id_token!);
    }
    return { agent, idTokens, raw };
  };

  const backchannelAudits = async (subject: string) =>
    (
      await lock.lock.database.pool.query<{
        client_id: string;
        outcome: string;
        reason: string | null;
        details: { outcome: string; attempts: number; trigger: string; sid?: string };
      }>(
        `SELECT client_id, outcome, reason, details FROM audit_events
          WHERE type = 'logout.backchannel' AND subject = $1 ORDER BY client_id`,
        [subject],
      )
    ).rows;

  /** Each client's logout token names the person and, where the session was known, its sid. */
  const assertLoggedOut = async (
    username: string,
    signedIn: Awaited<ReturnType<typeof signInTo>>,
    trigger: string,
  ) => {
    const sub = signedIn.idTokens.values().next().value!.sub!;
    for (const [clientId, idToken] of signedIn.idTokens) {
      const [token] = await eventually(
        `${clientId} receives ${username}'s logout token`,
        async () => {
          const got = rp.tokensFor(clientId, sub);
          return got.length > 0 ? got : undefined;
        },
        5000,
      );
      assert.equal(token!.payload.sub, idToken.sub);
      // Signed as the client's ID tokens are (second-app chose EdDSA), with a key from /jwks.
      assert.equal(token!.alg, decodeProtectedHeader(signedIn.raw.get(clientId)!).alg);
      assert.equal(token!.alg, clientId === 'second-app' ? 'EdDSA' : 'RS256');
      assert.equal(typeof token!.payload.sid, 'string', 'the session is named');
      // web-app requires sid (backchannelLogoutSessionRequired): its ID token carries the same one.
      if (clientId === 'web-app') assert.equal(token!.payload.sid, idToken.sid);
      else assert.equal(idToken.sid, undefined, 'sid only in ID tokens of clients that ask for it');
    }
    const audits = await eventually(
      'the deliveries are audited',
      async () => {
        const rows = await backchannelAudits(sub);
        return rows.length >= signedIn.idTokens.size ? rows : undefined;
      },
      5000,
    );
    assert.deepEqual(
      audits.map((row) => [row.client_id, row.outcome, row.details.outcome, row.details.trigger]),
      [...signedIn.idTokens.keys()].sort().map((clientId) => [clientId, 'success', 'delivered', trigger]),
    );
    assert.deepEqual(rp.rejected, [], 'no token the relying party refused');
  };

  it('discovery advertises back-channel logout with sessions, and ID tokens of a client that asks carry sid', async () => {
    const discovery = await (await fetch(`${lock.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.backchannel_logout_supported, true);
    assert.equal(discovery.backchannel_logout_session_supported, true);
    assert.ok(discovery.claims_supported.includes('sid'));
  });

  it('RP-initiated logout at Lock: every client of the session gets a logout token with its sid', async () => {
    const signedIn = await signInTo('alice', ['web-app', 'second-app', 'no-logout-app']);
    const hint = signedIn.raw.get('web-app')!;
    const page = await signedIn.agent.follow(
      `${lock.issuer}/session/end?id_token_hint=${encodeURIComponent(hint)}&client_id=web-app`,
    );
    const html = await page.response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    assert.ok(action && xsrf, `the sign-out confirmation: ${html.slice(0, 300)}`);
    const started = Date.now();
    const confirmed = await signedIn.agent.request(
      new URL(action.replaceAll('&amp;', '&'), page.url).toString(),
      {
        form: { xsrf, logout: 'yes' },
      },
    );
    assert.equal(confirmed.status, 303);
    assert.ok(Date.now() - started < 2000, 'the sign-out does not wait on the clients');
    signedIn.idTokens.delete('no-logout-app'); // no back-channel logout URI: told nothing
    await assertLoggedOut('alice', signedIn, 'end_session');
  });

  it("an admin ending a user's sessions: each client signed in gets a logout token", async () => {
    const signedIn = await signInTo('bob', ['web-app', 'second-app']);
    const ended = await api('POST', `/users/${userIds.get('bob')}/end-sessions`);
    assert.equal(ended.status, 200, ended.text);
    await assertLoggedOut('bob', signedIn, 'admin.sessions_ended');
  });

  it('disabling the user: each client signed in gets a logout token', async () => {
    const signedIn = await signInTo('carol', ['web-app', 'second-app']);
    const disabled = await api('POST', `/users/${userIds.get('carol')}/disable`);
    assert.equal(disabled.status, 200, disabled.text);
    await assertLoggedOut('carol', signedIn, 'admin.user.disabled');
  });

  it('an admin password reset that signs the user out: each client signed in gets a logout token', async () => {
    const signedIn = await signInTo('dave', ['web-app', 'second-app']);
    const reset = await api('POST', `/users/${userIds.get('dave')}/password`, {
      body: { password: 'a brand new passphrase for dave', endSessions: true },
    });
    assert.equal(reset.status, 200, reset.text);
    await assertLoggedOut('dave', signedIn, 'admin.user.password_set');
  });

  it('the CLI: lock users disable sends the logout tokens before it exits', async () => {
    const signedIn = await signInTo('grace', ['web-app']);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['src/cli/lock.ts', 'users', 'disable', 'grace'],
      {
        env: {
          ...process.env,
          DATABASE_URL: lock.database.url,
          LOCK_KEYS_DIR: lock.keysDir,
          LOCK_ISSUER: lock.issuer,
        },
      },
    );
    assert.match(stdout, /disabled grace/);
    assert.match(stdout, /back-channel logout: 1 delivered/);
    await assertLoggedOut('grace', signedIn, 'admin.user.disabled');
  });

  it('a client that holds a grant after its session at Lock expired is told too, by sub alone', async () => {
    const signedIn = await signInTo('henry', ['web-app']);
    const sub = signedIn.idTokens.get('web-app')!.sub!;
    // The session ended by its idle timeout and the pruner removed it; the grant lives on.
    const expired = await lock.lock.database.pool.query(
      "DELETE FROM oidc_payloads WHERE model = 'Session' AND payload ->> 'accountId' = $1",
      [sub],
    );
    assert.equal(expired.rowCount, 1);
    const ended = await api('POST', `/users/${userIds.get('henry')}/end-sessions`);
    assert.equal(ended.status, 200, ended.text);
    const [token] = await eventually(
      'web-app receives a logout token',
      async () => {
        const got = rp.tokensFor('web-app', sub);
        return got.length > 0 ? got : undefined;
      },
      5000,
    );
    assert.equal(token!.payload.sid, undefined, 'the session is gone: no sid to name');
  });

  it('a password reset that keeps the sessions sends nothing', async () => {
    const signedIn = await signInTo('frank', ['web-app']);
    const sub = signedIn.idTokens.get('web-app')!.sub!;
    const reset = await api('POST', `/users/${userIds.get('frank')}/password`, {
      body: { password: 'a brand new passphrase for frank' },
    });
    assert.equal(reset.status, 200, reset.text);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(rp.tokensFor('web-app', sub).length, 0);
    assert.deepEqual(await backchannelAudits(sub), []);
  });

  it('a dead or hanging endpoint is retried a bounded number of times and audited; the admin is not kept waiting', async () => {
    const signedIn = await signInTo('erin', ['dead-app', 'hang-app', 'flaky-app', 'reject-app']);
    const sub = signedIn.idTokens.get('dead-app')!.sub!;
    const started = Date.now();
    const disabled = await api('POST', `/users/${userIds.get('erin')}/disable`);
    const took = Date.now() - started;
    assert.equal(disabled.status, 200, disabled.text);
    // Three tries of 2.5 s each at the hanging endpoint would be 7.5 s and more.
    assert.ok(took < 1500, `the admin's request returned after ${took} ms`);

    const audits = await eventually(
      'every delivery ends and is audited',
      async () => {
        const rows = await backchannelAudits(sub);
        return rows.length === 4 ? rows : undefined;
      },
      20_000,
    );
    const byClient = Object.fromEntries(audits.map((row) => [row.client_id, row]));
    assert.equal(byClient['dead-app']!.outcome, 'failure');
    assert.equal(byClient['dead-app']!.details.outcome, 'failed');
    assert.equal(byClient['dead-app']!.details.attempts, 3);
    assert.equal(byClient['dead-app']!.reason, 'could not connect');
    assert.equal(byClient['hang-app']!.details.outcome, 'failed');
    assert.equal(byClient['hang-app']!.details.attempts, 3);
    assert.match(byClient['hang-app']!.reason!, /no answer within 2500 ms/);
    assert.equal(rp.posts.get('hang/hang-app'), 3, 'the hanging endpoint was tried three times');
    assert.equal(byClient['flaky-app']!.outcome, 'success');
    assert.equal(byClient['flaky-app']!.details.attempts, 3, 'delivered at the third try');
    assert.equal(rp.posts.get('flaky/flaky-app'), 3);
    assert.equal(rp.tokensFor('flaky-app', sub).length, 1);
    // A 400 is the client's verdict on the token: asking again would get the same.
    assert.equal(byClient['reject-app']!.details.outcome, 'refused');
    assert.equal(byClient['reject-app']!.details.attempts, 1);
    assert.equal(byClient['reject-app']!.reason, 'answered HTTP 400');
    assert.equal(rp.posts.get('reject/reject-app'), 1);

    const metrics = await (await fetch(`${lock.issuer}/metrics`)).text();
    const count = (outcome: string) =>
      Number(
        new RegExp(`^lock_backchannel_logout_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(metrics)?.[1],
      );
    assert.ok(
      count('failed') >= 2,
      metrics
        .split('\n')
        .filter((line) => line.includes('backchannel'))
        .join('\n'),
    );
    assert.ok(count('delivered') >= 1);
  });

  it('the admin API takes a back-channel logout URI and refuses one that is not http(s)', async () => {
    const bad = await api('POST', '/clients', {
      body: {
        clientId: 'bad-logout',
        redirectUris: [CALLBACK],
        backchannelLogoutUri: 'javascript:alert(1)',
      },
    });
    assert.equal(bad.status, 422, bad.text);
    assert.ok(
      bad.body.problems.some((problem: { path: string }) => problem.path === 'backchannelLogoutUri'),
      bad.text,
    );
    const orphan = await api('POST', '/clients', {
      body: { clientId: 'orphan-sid', redirectUris: [CALLBACK], backchannelLogoutSessionRequired: true },
    });
    assert.equal(orphan.status, 422, orphan.text);
    assert.ok(
      orphan.body.problems.some(
        (problem: { path: string }) => problem.path === 'backchannelLogoutSessionRequired',
      ),
    );
    const good = await api('POST', '/clients', {
      body: {
        clientId: 'good-logout',
        redirectUris: [CALLBACK],
        backchannelLogoutUri: 'https://app.example.com/backchannel-logout',
        backchannelLogoutSessionRequired: true,
      },
    });
    assert.equal(good.status, 201, good.text);
    const read = await api('GET', '/clients/good-logout');
    assert.equal(read.body.backchannelLogoutUri, 'https://app.example.com/backchannel-logout');
    assert.equal(read.body.backchannelLogoutSessionRequired, true);
  });
});

describe('the delivery queue is bounded', () => {
  it('beyond its limit a notice is dropped and reported at once, and the rest end within their attempts', async () => {
    const rp = new RelyingParty();
    await rp.start();
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const kid = randomUUID();
    const outcomes: DeliveryOutcome[] = [];
    const queue = new BackchannelLogout({
      issuer: 'https://lock.example.com',
      client: () => ({ backchannelLogoutUri: rp.uri('hang', 'slow-app') }),
      signingKey: () => ({ kid, alg: 'RS256', privateJwk }),
      onOutcome: (_notice, outcome) => outcomes.push(outcome),
      delivery: { queueLimit: 2, concurrency: 1, attempts: 2, backoffMs: 10, timeoutMs: 200 },
    });
    try {
      queue.notify(
        Array.from({ length: 5 }, (_, index) => ({
          clientId: 'slow-app',
          sub: `user-${index}`,
          trigger: 'admin.sessions_ended' as const,
        })),
      );
      assert.deepEqual(outcomes, ['dropped', 'dropped', 'dropped'], 'dropped as they come, not held');
      const started = Date.now();
      await queue.idle();
      assert.deepEqual(outcomes, ['dropped', 'dropped', 'dropped', 'failed', 'failed']);
      assert.ok(Date.now() - started < 2000, 'two tokens, two attempts of 200 ms each, one at a time');
      assert.equal(rp.posts.get('hang/slow-app'), 4, 'two attempts per queued token');
    } finally {
      queue.stop();
      await rp.close();
    }
  });
});
