import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { API, CALLBACK, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { PLAIN_IDP_OPTIONS, plainConnectorConfig, samlLockConfig } from './saml-fixtures.ts';
import { decodeResponse } from './saml-forgery.ts';
import {
  type IdpAnswer,
  pageText,
  postToAcs,
  registerServiceProvider,
  signInAtIdp,
  simpleSamlPhp,
  webAppAuthorization,
} from './saml-helpers.ts';

// The web-app's OIDC login initiation endpoint (OIDC Core §4) and its default landing page. Nothing
// listens there: the test plays that client, as the login fixtures' callback does.
const INITIATE = 'https://app.example.com/oidc/initiate';
const LANDING = 'https://app.example.com/home';
const OTHER_CALLBACK = 'https://other.example.com/callback';

/**
 * A browser whose cookie jar can be copied (to hand a cookie to "another browser"). The IdP's page
 * POSTs to Lock cross-site: like a browser, `fromIdp` sends none of Lock's SameSite=Lax cookies
 * with it, but keeps the ones its answer sets (a top-level navigation may set them).
 */
class Browser {
  readonly cookies: Map<string, string>;
  readonly #origin: string;

  constructor(issuer: string, cookies: Map<string, string> = new Map()) {
    this.#origin = new URL(issuer).origin;
    this.cookies = new Map(cookies);
  }

  copy(): Browser {
    return new Browser(this.#origin, this.cookies);
  }

  async #request(url: string, init: { form?: Record<string, string>; crossSite?: boolean } = {}) {
    const headers: Record<string, string> = {};
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (cookie && !init.crossSite && new URL(url).origin === this.#origin) headers.cookie = cookie;
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, {
      method: init.form ? 'POST' : 'GET',
      headers,
      redirect: 'manual',
      ...(init.form && { body: new URLSearchParams(init.form) }),
    });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Follows redirects within Lock; `left` is the first URL elsewhere (the client). */
  async follow(url: string, init: { form?: Record<string, string>; crossSite?: boolean } = {}) {
    let response = await this.#request(url, init);
    let current = url;
    for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops++) {
      const next = new URL(response.headers.get('location')!, current).toString();
      if (new URL(next).origin !== this.#origin) return { response, left: next };
      current = next;
      response = await this.#request(next);
    }
    return { response, left: undefined, html: await response.text() };
  }

  /** The IdP's auto-submitting form, posted to Lock's ACS. */
  fromIdp(answer: IdpAnswer) {
    return this.follow(answer.acsUrl, {
      crossSite: true,
      form: {
        SAMLResponse: answer.SAMLResponse,
        ...(answer.RelayState !== undefined && { RelayState: answer.RelayState }),
      },
    });
  }
}

describe('SAML connector: IdP-initiated (unsolicited) logins, OIDC third-party-initiated login style', () => {
  let lock: RunningLock;
  let clockOffset = 0;
  const registrations: Array<{ entityId: string; unregister(): Promise<void> }> = [];
  const entityIds: Record<string, string> = {};

  before(async () => {
    const idpInitiated = (clientId: string) => ({
      idpInitiated: { enabled: true, clientId, initiateLoginUri: INITIATE, targetLinkUri: LANDING },
    });
    lock = await startLock({
      now: () => new Date(Date.now() + clockOffset),
      config: samlLockConfig([
        { id: 'partner', name: 'Partner SSO', config: plainConnectorConfig(idpInitiated('web-app')) },
        {
          id: 'misconfigured',
          name: 'Misconfigured SSO',
          config: plainConnectorConfig(idpInitiated('gone-app')),
        },
      ]).replace(
        'connectors:\n',
        `  - clientId: other-app
    clientSecret: ${WEB_SECRET}
    firstParty: true
    redirectUris: ["${OTHER_CALLBACK}"]
    resources: [${API}]
connectors:
`,
      ),
    });
    for (const id of ['partner', 'misconfigured']) {
      const registration = await registerServiceProvider(lock, id, PLAIN_IDP_OPTIONS);
      registrations.push(registration);
      entityIds[id] = registration.entityId;
    }
  });
  after(async () => {
    for (const registration of registrations) await registration.unregister();
    await lock?.close();
    await lock?.database.drop();
  });

  /** The user starts at the IdP (SimpleSAMLphp's IdP-first URL), signs in, and gets the form to post. */
  async function idpInitiatedAnswer(
    username: string,
    password: string,
    relayState?: string,
    connector = 'partner',
  ) {
    const { origin } = simpleSamlPhp();
    const start = new URL(`${origin}/simplesaml/saml2/idp/SSOService.php`);
    start.searchParams.set('spentityid', entityIds[connector]!);
    if (relayState !== undefined) start.searchParams.set('RelayState', relayState);
    const answer = await signInAtIdp(new UserAgent(origin), start.toString(), username, password);
    const xml = decodeResponse(answer.SAMLResponse);
    assert.doesNotMatch(xml, /InResponseTo/, 'an unsolicited response');
    return answer;
  }

  /** IdP-initiated login in `browser`: checks that Lock sent it to the client's initiation endpoint. */
  async function landAtClient(browser: Browser, answer: IdpAnswer) {
    const acs = await browser.fromIdp(answer);
    assert.ok(
      acs.left?.startsWith(`${INITIATE}?`),
      `ACS answered ${acs.response.status}: ${pageText(acs.html ?? '')}`,
    );
    assert.equal(acs.response.status, 303);
    const setCookie = acs.response.headers.getSetCookie().find((line) => line.startsWith('lock_saml_idp='));
    assert.ok(setCookie, 'the 303 binds the held login to this browser');
    assert.match(setCookie!, /path=\/interaction/);
    assert.match(setCookie!, /samesite=lax/i);
    assert.match(setCookie!, /httponly/i);
    return new URL(acs.left!);
  }

  const auditEvents = async () =>
    (
      await lock.database.pool.query<{
        outcome: string;
        reason: string | null;
        connector: string | null;
        subject: string | null;
        client_id: string | null;
        details: Record<string, unknown>;
      }>(
        "SELECT outcome, reason, connector, subject, client_id, details FROM audit_events WHERE type = 'login.saml' ORDER BY id",
      )
    ).rows;
  const lastAuditEvent = async () => (await auditEvents()).at(-1)!;
  const isLoginPage = (html: string | undefined) => /name="password"/.test(html ?? '');

  it('IdP-initiated login → the client’s initiation endpoint → its PKCE authorization request completes without a login page → tokens with mapped roles', async () => {
    const browser = new Browser(lock.issuer);
    const initiate = await landAtClient(browser, await idpInitiatedAnswer('alice', 'alicepass'));
    assert.equal(initiate.origin + initiate.pathname, INITIATE);
    assert.equal(initiate.searchParams.get('iss'), lock.issuer, 'iss: the OP the client must use');
    assert.equal(initiate.searchParams.get('target_link_uri'), LANDING, 'the configured default target');

    // The client's initiation endpoint checks iss and starts an ordinary authorization request: its
    // own state and PKCE verifier; Lock sends no tokens the client did not ask for.
    const client = await webAppAuthorization(lock);
    const done = await browser.follow(client.url);
    assert.ok(
      done.left?.startsWith(`${CALLBACK}?code=`),
      `landed on ${done.left}: ${pageText(done.html ?? '')}`,
    );
    assert.ok(!browser.cookies.has('lock_saml_idp'), 'the binding cookie is cleared once used');

    const tokens = await client.tokens(done.left!);
    const claims = tokens.claims()!;
    assert.equal(claims.preferred_username, 'alice');
    assert.equal(claims.email, 'alice@example.org');
    assert.deepEqual(claims.groups, ['admins', 'users']);
    assert.deepEqual(claims.roles, ['app_admin', 'app_readonly']);
    assert.equal(claims.idp, 'partner');
    const access = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${lock.issuer}/jwks`)), {
      issuer: lock.issuer,
      audience: API,
    });
    assert.deepEqual(access.payload.roles, ['app_admin', 'app_readonly']);
    assert.equal(access.payload.role, 'app_admin');
    assert.deepEqual(
      access.payload.amr,
      ['pwd'],
      'as for an SP-initiated login: from the AuthnContextClassRef',
    );
    assert.equal(access.payload.acr, 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password');

    const event = await lastAuditEvent();
    assert.equal(event.outcome, 'success');
    assert.equal(event.subject, 'alice');
    assert.equal(event.connector, 'partner');
    assert.equal(event.client_id, 'web-app');
    assert.deepEqual(event.details, { idpInitiated: true });
    const { rowCount } = await lock.database.pool.query('SELECT 1 FROM saml_idp_initiated_logins');
    assert.equal(rowCount, 0, 'nothing left held');
  });

  it('passes a RelayState that is a URL on the client’s origin on as target_link_uri, and no other', async () => {
    const deep = 'https://app.example.com/reports/42?tab=roles';
    const kept = await landAtClient(
      new Browser(lock.issuer),
      await idpInitiatedAnswer('bob', 'bobpass', deep),
    );
    assert.equal(kept.searchParams.get('target_link_uri'), deep);
    for (const relayState of ['https://evil.example/phish', 'javascript:alert(1)', '/reports/42']) {
      const ignored = await landAtClient(
        new Browser(lock.issuer),
        await idpInitiatedAnswer('bob', 'bobpass', relayState),
      );
      assert.equal(ignored.searchParams.get('target_link_uri'), LANDING, `RelayState ${relayState} ignored`);
    }
  });

  it('the held login cannot be taken by another browser (no cookie), nor twice (copied cookie)', async () => {
    const browser = new Browser(lock.issuer);
    await landAtClient(browser, await idpInitiatedAnswer('alice', 'alicepass'));
    const copied = browser.copy(); // the same binding cookie, in a browser without a Lock session

    const other = await new Browser(lock.issuer).follow((await webAppAuthorization(lock)).url);
    assert.equal(other.left, undefined);
    assert.ok(isLoginPage(other.html), 'another browser gets the login page');

    const client = await webAppAuthorization(lock);
    const mine = await browser.follow(client.url);
    assert.ok(mine.left?.startsWith(`${CALLBACK}?code=`), 'the browser that posted it still takes it');
    assert.equal((await client.tokens(mine.left!)).claims()!.preferred_username, 'alice');

    const again = await copied.follow((await webAppAuthorization(lock)).url);
    assert.equal(again.left, undefined);
    assert.ok(isLoginPage(again.html), 'used once: the second time is the login page');
    const event = await lastAuditEvent();
    assert.equal(event.outcome, 'failure');
    assert.match(
      event.reason!,
      /IdP-initiated login: none held for this browser and client \(already used or expired\)/,
    );
  });

  it('the held login expires after loginTtlSeconds (120)', async () => {
    const browser = new Browser(lock.issuer);
    await landAtClient(browser, await idpInitiatedAnswer('bob', 'bobpass'));
    clockOffset = 121_000;
    try {
      const late = await browser.follow((await webAppAuthorization(lock)).url);
      assert.equal(late.left, undefined);
      assert.ok(isLoginPage(late.html));
      assert.match((await lastAuditEvent()).reason!, /none held for this browser and client/);
    } finally {
      clockOffset = 0;
    }
  });

  it('is only for the configured client; a client asking for a fresh login (prompt=login) gets the login page', async () => {
    const browser = new Browser(lock.issuer);
    await landAtClient(browser, await idpInitiatedAnswer('carol', 'carolpass'));

    const otherApp = await browser.follow(
      (await webAppAuthorization(lock)).url
        .replace('client_id=web-app', 'client_id=other-app')
        .replace(encodeURIComponent(CALLBACK), encodeURIComponent(OTHER_CALLBACK)),
    );
    assert.equal(otherApp.left, undefined, 'another client does not get it');
    assert.ok(isLoginPage(otherApp.html));

    const fresh = await browser.follow((await webAppAuthorization(lock, { prompt: 'login' })).url);
    assert.equal(fresh.left, undefined, 'prompt=login: Lock did not see a fresh authentication');
    assert.ok(isLoginPage(fresh.html));

    const client = await webAppAuthorization(lock);
    const done = await browser.follow(client.url);
    assert.ok(done.left?.startsWith(`${CALLBACK}?code=`), 'still held for the configured client');
    assert.equal((await client.tokens(done.left!)).claims()!.preferred_username, 'carol');
  });

  it('refuses an unsolicited response replayed: twice in a row', async () => {
    const answer = await idpInitiatedAnswer('bob', 'bobpass');
    await landAtClient(new Browser(lock.issuer), answer);
    const replay = await new Browser(lock.issuer).fromIdp(answer);
    assert.equal(replay.response.status, 400);
    assert.match(pageText(replay.html ?? ''), /Sign-in with Partner SSO failed/);
    const event = await lastAuditEvent();
    assert.equal(event.outcome, 'failure');
    assert.match(event.reason!, /SAML response refused: the assertion .* was already used \(replay\)/);
  });

  it('refuses an unsolicited response replayed: twice at once (exactly one is held)', async () => {
    const answer = await idpInitiatedAnswer('bob', 'bobpass');
    const posts = await Promise.all([postToAcs(answer), postToAcs(answer)]);
    assert.deepEqual(posts.map((response) => response.status).sort(), [303, 400]);
    const { rowCount } = await lock.database.pool.query(
      'SELECT 1 FROM saml_idp_initiated_logins WHERE expires_at > now()',
    );
    assert.ok(rowCount! >= 1);
    assert.match((await lastAuditEvent()).reason!, /already used \(replay\)/);
  });

  it('a client that is not in the catalog: Lock’s error page and an audit event, nothing held', async () => {
    const before = (
      await lock.database.pool.query('SELECT count(*)::int AS n FROM saml_idp_initiated_logins')
    ).rows[0].n;
    const acs = await new Browser(lock.issuer).fromIdp(
      await idpInitiatedAnswer('alice', 'alicepass', undefined, 'misconfigured'),
    );
    assert.equal(acs.left, undefined);
    assert.equal(acs.response.status, 503);
    const text = pageText(acs.html ?? '');
    assert.match(text, /Sign-in with Misconfigured SSO is unavailable/);
    assert.doesNotMatch(text, /gone-app/, 'no internals for the user');
    assert.equal(acs.response.headers.getSetCookie().length, 0);
    const event = await lastAuditEvent();
    assert.equal(event.outcome, 'error');
    assert.equal(event.connector, 'misconfigured');
    assert.equal(event.client_id, 'gone-app');
    assert.match(event.reason!, /idpInitiated.clientId gone-app is not a client of Lock/);
    const after = (await lock.database.pool.query('SELECT count(*)::int AS n FROM saml_idp_initiated_logins'))
      .rows[0].n;
    assert.equal(after, before);
  });

  it('SP-initiated logins work as before on that connector; a response naming an unknown request is no unsolicited one', async () => {
    const client = await webAppAuthorization(lock, { connector: 'partner' });
    const browser = new UserAgent(lock.issuer);
    const toIdp = await browser.follow(client.url);
    const answer = await signInAtIdp(new UserAgent(simpleSamlPhp().origin), toIdp.left!, 'bob', 'bobpass');
    assert.match(decodeResponse(answer.SAMLResponse), /InResponseTo=/);
    // Lock forgets the request (as if it had expired and been swept): the answer is refused, not
    // taken for an IdP-initiated login.
    const saved = await lock.database.pool.query('SELECT * FROM saml_requests');
    await lock.database.pool.query('DELETE FROM saml_requests');
    const orphan = await postToAcs(answer);
    assert.equal(orphan.status, 400);
    assert.match((await lastAuditEvent()).reason!, /InResponseTo .* is not a request this connector sent/);

    for (const row of saved.rows)
      await lock.database.pool.query(
        `INSERT INTO saml_requests (id, connector, interaction_uid, relay_state, browser_binding, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          row.id,
          row.connector,
          row.interaction_uid,
          row.relay_state,
          row.browser_binding,
          row.created_at,
          row.expires_at,
        ],
      );
    const acs = await postToAcs(answer);
    // The assertion ID was not spent by the refusal: the real request takes it.
    assert.equal(acs.status, 303, pageText(await acs.text()));
    const done = await browser.follow(new URL(acs.headers.get('location')!, lock.issuer).toString());
    assert.ok(done.left?.startsWith(`${CALLBACK}?code=`));
  });
});
