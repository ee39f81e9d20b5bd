import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { CALLBACK } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { PLAIN_IDP_OPTIONS, plainConnectorConfig, samlLockConfig } from './saml-fixtures.ts';
import { authnInstantOf, find, resignResponse } from './saml-forgery.ts';
import {
  idpSigningKey,
  pageText,
  postToAcs,
  registerServiceProvider,
  signInAtIdp,
  simpleSamlPhp,
  webAppAuthorization,
} from './saml-helpers.ts';

// prompt=login and max_age ask for a fresh authentication. Lock passes that on as ForceAuthn, and
// holds the IdP's answer to it: the assertion's AuthnInstant must be at or after the AuthnRequest
// (ForceAuthn) and within max_age; auth_time in Lock's tokens is that AuthnInstant. An IdP that
// ignores ForceAuthn is played by re-signing SimpleSAMLphp's real answer with its own key.
describe('SAML connector: ForceAuthn and max_age are checked against the IdP’s AuthnInstant', () => {
  let lock: RunningLock;
  let registration: { unregister(): Promise<void> };
  let idpKey: { privateKey: string; certificate: string };

  before(async () => {
    lock = await startLock({
      config: samlLockConfig([{ id: 'partner', name: 'Partner SSO', config: plainConnectorConfig() }]),
    });
    registration = await registerServiceProvider(lock, 'partner', PLAIN_IDP_OPTIONS);
    idpKey = await idpSigningKey();
  });
  after(async () => {
    await registration?.unregister();
    await lock?.close();
    await lock?.database.drop();
  });

  /** A client's authorization request through Lock to the IdP, where `idp` signs in (or has a session). */
  async function answerFromIdp(idp: UserAgent, extra: Record<string, string> = {}) {
    const browser = new UserAgent(lock.issuer);
    const client = await webAppAuthorization(lock, { connector: 'partner', ...extra });
    const toIdp = await browser.follow(client.url);
    assert.ok(toIdp.left, 'Lock sent the browser to the IdP');
    const answer = await signInAtIdp(idp, toIdp.left, 'bob', 'bobpass');
    return { browser, client, answer, authnRequest: toIdp.left };
  }

  async function finish(flow: Awaited<ReturnType<typeof answerFromIdp>>, samlResponse?: string) {
    const acs = await postToAcs(flow.answer, samlResponse);
    if (acs.status !== 303) return { acs, text: pageText(await acs.text()) };
    const done = await flow.browser.follow(new URL(acs.headers.get('location')!, lock.issuer).toString());
    assert.ok(done.left?.startsWith(`${CALLBACK}?code=`), `landed on ${done.left}`);
    const tokens = await flow.client.tokens(done.left!);
    // auth_time as downstream APIs see it (the access token; the ID token has it only when asked).
    return { acs, text: '', idToken: decodeJwt(tokens.access_token) };
  }

  async function lastAuditReason(): Promise<string> {
    const { rows } = await lock.database.pool.query<{ reason: string }>(
      "SELECT reason FROM audit_events WHERE type = 'login.saml' ORDER BY id DESC LIMIT 1",
    );
    return rows[0]?.reason ?? '';
  }

  const backdated = (base64: string, by: number) =>
    resignResponse(base64, idpKey, (document) => {
      const statement = find(document, 'AuthnStatement');
      const instant = new Date(Date.parse(statement.getAttribute('AuthnInstant')!) - by);
      statement.setAttribute('AuthnInstant', instant.toISOString().replace(/\.\d+Z$/, 'Z'));
    });

  it('auth_time is the IdP’s AuthnInstant, not when Lock finished (an earlier IdP session reused)', async () => {
    const idp = new UserAgent(simpleSamlPhp().origin);
    const first = await finish(await answerFromIdp(idp));
    assert.equal(first.acs.status, 303, first.text);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    // A new client login in a new Lock browser: the IdP's session answers without a new password.
    const second = await answerFromIdp(idp);
    const instant = authnInstantOf(second.answer.SAMLResponse);
    assert.ok(Date.now() - instant.getTime() >= 2_000, 'the IdP reused its earlier authentication');
    const done = await finish(second);
    assert.equal(done.idToken?.auth_time, Math.floor(instant.getTime() / 1000));
  });

  it('prompt=login: the AuthnRequest carries ForceAuthn, the IdP authenticates again, auth_time is fresh', async () => {
    const idp = new UserAgent(simpleSamlPhp().origin);
    await finish(await answerFromIdp(idp));
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const started = Date.now();
    const flow = await answerFromIdp(idp, { prompt: 'login' });
    const request = await inflateRedirect(flow.authnRequest);
    assert.match(request, /ForceAuthn="true"/);
    const instant = authnInstantOf(flow.answer.SAMLResponse);
    assert.ok(instant.getTime() >= started - 1_000, 'SimpleSAMLphp honoured ForceAuthn');
    const done = await finish(flow);
    assert.equal(done.acs.status, 303, done.text);
    assert.ok((done.idToken!.auth_time as number) >= Math.floor(started / 1000) - 1);
  });

  it('prompt=login: an IdP that ignores ForceAuthn (AuthnInstant of an earlier login) is refused', async () => {
    const flow = await answerFromIdp(new UserAgent(simpleSamlPhp().origin), { prompt: 'login' });
    const done = await finish(flow, backdated(flow.answer.SAMLResponse, 10 * 60_000));
    assert.equal(done.acs.status, 400, done.text);
    assert.match(done.text, /Sign-in with Partner SSO failed/);
    assert.match(
      await lastAuditReason(),
      /ForceAuthn: the request .* asked the IdP to authenticate the user again/,
    );
  });

  it('max_age=120: an AuthnInstant five minutes old is refused; one within max_age is accepted', async () => {
    const stale = await answerFromIdp(new UserAgent(simpleSamlPhp().origin), { max_age: '120' });
    assert.match(await inflateRedirect(stale.authnRequest), /ForceAuthn="true"/);
    // Within the 60 s clock skew of the AuthnRequest, but older than max_age allows.
    const refused = await finish(
      stale,
      resignResponse(stale.answer.SAMLResponse, idpKey, (document) => {
        const statement = find(document, 'AuthnStatement');
        const instant = new Date(Date.now() - 5 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
        statement.setAttribute('AuthnInstant', instant);
      }),
    );
    assert.equal(refused.acs.status, 400, refused.text);
    assert.match(await lastAuditReason(), /max_age 120: the AuthnInstant .* is older than the client allows/);

    const fresh = await answerFromIdp(new UserAgent(simpleSamlPhp().origin), { max_age: '120' });
    const accepted = await finish(fresh);
    assert.equal(accepted.acs.status, 303, accepted.text);
    const authTime = accepted.idToken!.auth_time as number;
    assert.equal(authTime, Math.floor(authnInstantOf(fresh.answer.SAMLResponse).getTime() / 1000));
    assert.ok(Date.now() / 1000 - authTime <= 120);
  });

  it('an AuthnInstant in the future (beyond the clock skew) is refused', async () => {
    const flow = await answerFromIdp(new UserAgent(simpleSamlPhp().origin));
    const done = await finish(flow, backdated(flow.answer.SAMLResponse, -10 * 60_000));
    assert.equal(done.acs.status, 400, done.text);
    assert.match(await lastAuditReason(), /AuthnInstant .* is in the future/);
  });
});

/** The AuthnRequest XML of an HTTP-Redirect binding URL (deflated, base64, in SAMLRequest). */
async function inflateRedirect(url: string): Promise<string> {
  const { inflateRawSync } = await import('node:zlib');
  const encoded = new URL(url).searchParams.get('SAMLRequest')!;
  return inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
}
