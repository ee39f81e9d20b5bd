import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type * as oidc from 'openid-client';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { API, CALLBACK } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import {
  PLAIN_IDP_OPTIONS,
  plainConnectorConfig,
  SECURE_IDP_OPTIONS,
  samlLockConfig,
  secureConnectorConfig,
} from './saml-fixtures.ts';
import {
  makeKeyPair,
  pageText,
  postToAcs,
  registerServiceProvider,
  samlLogin,
  signInAtIdp,
  simpleSamlPhp,
  webAppAuthorization,
} from './saml-helpers.ts';

describe('SAML connector: SP-initiated login at SimpleSAMLphp', () => {
  let lock: RunningLock;
  let clockOffset = 0;
  const registrations: Array<{ unregister(): Promise<void> }> = [];

  before(async () => {
    const keys = await makeKeyPair('Lock test SP');
    lock = await startLock({
      now: () => new Date(Date.now() + clockOffset),
      config: samlLockConfig([
        { id: 'partner', name: 'Partner SSO', config: plainConnectorConfig({ maxSessionAgeSeconds: 3600 }) },
        { id: 'secure', name: 'Secure SSO', config: secureConnectorConfig(keys) },
      ]),
    });
    registrations.push(await registerServiceProvider(lock, 'partner', PLAIN_IDP_OPTIONS));
    registrations.push(await registerServiceProvider(lock, 'secure', SECURE_IDP_OPTIONS));
  });
  after(async () => {
    for (const registration of registrations) await registration.unregister();
    await lock?.close();
    await lock?.database.drop();
  });

  const auditEvents = async () =>
    (
      await lock.database.pool.query<{
        outcome: string;
        reason: string | null;
        connector: string;
        subject: string | null;
      }>("SELECT outcome, reason, connector, subject FROM audit_events WHERE type = 'login.saml' ORDER BY id")
    ).rows;

  it('publishes SP metadata with its entity ID, ACS and signing policy', async () => {
    const response = await fetch(`${lock.issuer}/saml/partner/metadata`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /application\/samlmetadata\+xml/);
    const xml = await response.text();
    assert.match(xml, new RegExp(`entityID="${lock.issuer}/saml/partner/metadata"`));
    assert.match(xml, new RegExp(`Location="${lock.issuer}/saml/partner/acs"`));
    assert.match(xml, /WantAssertionsSigned="true"/);
    assert.match(xml, /AuthnRequestsSigned="false"/);

    const secure = await (await fetch(`${lock.issuer}/saml/secure/metadata`)).text();
    assert.match(secure, /AuthnRequestsSigned="true"/);
    assert.match(secure, /<KeyDescriptor use="signing">/);
    assert.match(secure, /<KeyDescriptor use="encryption">/);
    assert.doesNotMatch(secure, /PRIVATE KEY/);
    assert.equal((await fetch(`${lock.issuer}/saml/nobody/metadata`)).status, 404);
  });

  it('signs alice in from the OIDC authorization request to tokens with roles mapped from her groups', async () => {
    const client = await webAppAuthorization(lock, { connector: 'partner' });
    const login = await samlLogin(lock, client.url, 'alice', 'alicepass');
    assert.ok(
      login.landed?.startsWith(`${CALLBACK}?code=`),
      `landed on ${login.landed}: ${pageText(login.html)}`,
    );

    const tokens = await client.tokens(login.landed!);
    const claims = tokens.claims()!;
    assert.equal(claims.preferred_username, 'alice');
    assert.equal(claims.email, 'alice@example.org');
    assert.equal(claims.name, 'Alice Admin');
    assert.deepEqual(claims.groups, ['admins', 'users']);
    assert.deepEqual(claims.roles, ['app_admin', 'app_readonly']);
    assert.equal(claims.idp, 'partner');
    assert.deepEqual(claims.affiliation, ['member', 'staff'], 'a custom claim from eduPersonAffiliation');
    assert.equal(claims.login_id, 'alice');

    const jwks = createRemoteJWKSet(new URL(`${lock.issuer}/jwks`));
    const access = await jwtVerify(tokens.access_token, jwks, { issuer: lock.issuer, audience: API });
    assert.deepEqual(access.payload.roles, ['app_admin', 'app_readonly']);
    assert.equal(access.payload.role, 'app_admin');
    assert.equal(access.payload.idp, 'partner');
    assert.deepEqual(access.payload.amr, ['pwd'], 'from the AuthnContextClassRef Password');
    assert.equal(access.payload.acr, 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password');

    const { rows } = await lock.database.pool.query(
      "SELECT upstream_id, claims FROM identities WHERE connector = 'partner' AND username = 'alice'",
    );
    assert.equal(rows[0].upstream_id, 'alice', 'the uid attribute, not the transient NameID');
    assert.deepEqual(rows[0].claims.affiliation, ['member', 'staff']);
    assert.equal(rows[0].claims.login_id, 'alice');

    const again = await samlLogin(
      lock,
      (await webAppAuthorization(lock, { connector: 'partner' })).url,
      'alice',
      'alicepass',
    );
    assert.ok(again.landed?.startsWith(`${CALLBACK}?code=`));
    const subs = await lock.database.pool.query(
      "SELECT sub FROM identities WHERE connector = 'partner' AND upstream_id = 'alice'",
    );
    assert.equal(subs.rowCount, 1, 'a second login is the same subject (stable sub)');

    const events = (await auditEvents()).filter((event) => event.outcome === 'success');
    assert.ok(events.some((event) => event.subject === 'alice' && event.connector === 'partner'));
  });

  it('signs carol (no groups, a non-ASCII name) in with no roles', async () => {
    const client = await webAppAuthorization(lock, { connector: 'partner' });
    const login = await samlLogin(lock, client.url, 'carol', 'carolpass');
    const claims = (await client.tokens(login.landed!)).claims()!;
    assert.equal(claims.name, 'Carol Ünïcødé');
    assert.deepEqual(claims.groups, []);
    assert.deepEqual(claims.roles, []);
  });

  it('signed AuthnRequest, encrypted assertion in a signed Response, persistent NameID, URI attribute names, one-value groups', async () => {
    const client = await webAppAuthorization(lock, { connector: 'secure' });
    const login = await samlLogin(lock, client.url, 'alice', 'alicepass');
    assert.ok(
      login.landed?.startsWith(`${CALLBACK}?code=`),
      `landed on ${login.landed}: ${pageText(login.html)}`,
    );
    const xml = Buffer.from(login.answer.SAMLResponse, 'base64').toString();
    assert.match(xml, /EncryptedAssertion/, 'the IdP encrypted the assertion');
    assert.doesNotMatch(xml, /alice/, 'nothing about alice in clear text');

    const claims = (await client.tokens(login.landed!)).claims()!;
    assert.equal(claims.preferred_username, 'alice');
    assert.equal(claims.email, 'alice@example.org');
    assert.deepEqual(claims.groups, ['admins', 'users'], 'split at the delimiter');
    assert.deepEqual(claims.roles, ['app_admin', 'app_readonly']);
    const { rows } = await lock.database.pool.query(
      "SELECT upstream_id FROM identities WHERE connector = 'secure' AND username = 'alice'",
    );
    assert.notEqual(rows[0].upstream_id, 'alice', 'the persistent NameID, opaque');
    const partner = await lock.database.pool.query(
      "SELECT sub FROM identities WHERE connector = 'partner' AND upstream_id = 'alice'",
    );
    assert.notEqual(partner.rows[0]?.sub, claims.sub, 'another connector, another subject');
  });

  it('shows "Sign in with Partner SSO" on the login page; the link starts the SAML login', async () => {
    const client = await webAppAuthorization(lock);
    const agent = new UserAgent(lock.issuer);
    const page = await agent.follow(client.url);
    const html = await page.response.text();
    const link = /<a[^>]*href="([^"]+)"[^>]*>Sign in with Partner SSO</.exec(html)?.[1];
    assert.ok(link, 'a link per SAML connector');
    const toIdp = await agent.follow(new URL(link!, page.url).toString());
    assert.ok(
      toIdp.left?.startsWith(`${simpleSamlPhp().origin}/simplesaml/saml2/idp/SSOService.php?SAMLRequest=`),
    );
  });

  it('refresh tokens of a SAML login work until maxSessionAgeSeconds, then the user must sign in again', async () => {
    const client = await webAppAuthorization(lock, { connector: 'partner' });
    const login = await samlLogin(lock, client.url, 'bob', 'bobpass');
    const tokens = await client.tokens(login.landed!);
    const refreshed = await client.refresh(tokens.refresh_token!);
    assert.ok(refreshed.access_token, 'within the maximum session age');
    clockOffset = 3601_000;
    try {
      await assert.rejects(client.refresh(refreshed.refresh_token!), (error: oidc.ResponseBodyError) => {
        assert.equal(error.error, 'invalid_grant');
        return true;
      });
    } finally {
      clockOffset = 0;
    }
  });

  it('IdP status AuthnFailed: Lock’s error page for the user, the status in the audit log for the admin', async () => {
    const client = await webAppAuthorization(lock, { connector: 'partner' });
    const login = await samlLogin(lock, client.url, 'dave', 'davepass');
    assert.equal(login.acs.status, 401);
    const text = pageText(login.html);
    assert.match(text, /Partner SSO could not sign you in/);
    assert.doesNotMatch(text, /AuthnFailed|urn:oasis|dave may not/, 'no internals for the user');
    const event = (await auditEvents()).at(-1)!;
    assert.equal(event.outcome, 'failure');
    assert.match(event.reason!, /status Responder\/AuthnFailed: dave may not sign in/);
  });

  it('refuses to complete a login in another browser than the one that started it', async () => {
    const client = await webAppAuthorization(lock, { connector: 'partner' });
    const victim = new UserAgent(lock.issuer);
    const toIdp = await victim.follow(client.url);
    const answer = await signInAtIdp(
      new UserAgent(simpleSamlPhp().origin),
      toIdp.left!,
      'alice',
      'alicepass',
    );
    const acs = await postToAcs(answer);
    assert.equal(acs.status, 303);
    const other = new UserAgent(lock.issuer);
    const completion = await other.follow(new URL(acs.headers.get('location')!, lock.issuer).toString());
    assert.equal(completion.left, undefined);
    assert.equal(completion.response.status, 400);
    // Right browser, but the request is still usable only by it: it completes.
    const done = await victim.follow(new URL(acs.headers.get('location')!, lock.issuer).toString());
    assert.ok(done.left?.startsWith(`${CALLBACK}?code=`));
  });
});
