// The admin API on the two redirect connector types that federate to an upstream OpenID Connect
// provider (`oidc`) or plain OAuth 2.0 server (`oauth2`): create after a step-by-step connection
// test against a real upstream (a second Lock), read without secrets and with the redirect URI to
// register, an upstream change that needs the secret again, delete; every answer checked against
// the OpenAPI document.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { loginConfig } from '../helpers/login-fixtures.ts';
import {
  ADMIN_PASSWORD,
  type AdminApi,
  adminApi,
  assertNoSecretReturned,
  consoleToken,
  problemAt,
} from './admin-api.ts';

const OIDC_SECRET = 'the upstream oidc client secret';
const OAUTH2_SECRET = 'the upstream oauth2 client secret';

/**
 * An HTTP server that records what reaches it and answers like a half-configured provider: a
 * discovery document naming itself, the real upstream's keys, and a "token endpoint" that is a web
 * page (200 HTML), as when a URL points at the wrong server.
 */
async function lookalikeProvider(jwksUri: string) {
  const received: string[] = [];
  const server: Server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    received.push(
      `${request.method} ${request.url} ${JSON.stringify(request.headers)} ${Buffer.concat(chunks)}`,
    );
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (request.url === '/.well-known/openid-configuration') {
      response.setHeader('content-type', 'application/json');
      return response.end(
        JSON.stringify({
          issuer: base,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          jwks_uri: jwksUri,
        }),
      );
    }
    response.setHeader('content-type', 'text/html');
    response.end('<html><body>Welcome</body></html>');
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => received.join('\n'),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('admin API: OpenID Connect and OAuth 2.0 connectors', () => {
  let upstream: RunningLock;
  let lock: RunningLock;
  let api: AdminApi;
  let lookalike: Awaited<ReturnType<typeof lookalikeProvider>>;
  let endpoints: {
    issuer: string;
    authorization_endpoint: string;
    token_endpoint: string;
    userinfo_endpoint: string;
    jwks_uri: string;
  };

  before(async () => {
    upstream = await startLock();
    lock = await startLock({ config: loginConfig, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    endpoints = await (await fetch(`${upstream.issuer}/.well-known/openid-configuration`)).json();
    lookalike = await lookalikeProvider(endpoints.jwks_uri);
  });
  after(async () => {
    await lookalike?.close();
    await lock?.close();
    await lock?.database.drop();
    await upstream?.close();
    await upstream?.database.drop();
  });

  const oidcConfig = () => ({
    issuer: upstream.issuer,
    allowInsecureIssuer: true, // the test's upstream speaks plain http
    clientId: 'downstream-lock',
    clientSecret: OIDC_SECRET,
    scopes: ['openid', 'profile', 'email'],
    claims: { username: 'preferred_username', email: 'email', name: 'name', groups: 'groups' },
  });

  const oauth2Config = () => ({
    authorizationUrl: endpoints.authorization_endpoint,
    tokenUrl: endpoints.token_endpoint,
    userinfoUrl: endpoints.userinfo_endpoint,
    groupsUrl: endpoints.jwks_uri,
    clientId: 'downstream-lock',
    clientSecret: OAUTH2_SECRET,
    scopes: ['read:user', 'read:org'],
    claims: { id: 'sub', username: 'sub', email: 'email', name: 'name', groups: '[].kid' },
  });

  it('creates an oidc connector after discovery, JWKS and the token endpoint answer; shows its redirect URI, never its secret', async () => {
    const created = await api('POST', '/connectors', {
      body: { id: 'partner-lock', type: 'oidc', name: 'Partner Lock', config: oidcConfig() },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.test.ok, true, created.text);
    assert.deepEqual(
      created.body.test.steps.map((step: { step: string; ok: boolean }) => [step.step, step.ok]),
      [
        ['discovery', true],
        ['jwks', true],
        ['token endpoint', true],
      ],
    );
    assert.match(
      created.body.test.steps[2].detail,
      /answered 40[01] invalid_\w+ to an unauthenticated request/,
    );
    assert.equal(created.body.redirectUri, `${lock.issuer}/sso/partner-lock/callback`);
    assert.deepEqual(created.body.setSecrets, ['clientSecret']);
    assert.equal(created.body.config.clientSecret, undefined);

    const read = await api('GET', '/connectors/partner-lock');
    assert.equal(read.status, 200);
    assert.equal(read.body.redirectUri, `${lock.issuer}/sso/partner-lock/callback`);
    assert.deepEqual(read.body.setSecrets, ['clientSecret']);
    assert.equal(read.body.config.issuer, upstream.issuer);
    assert.equal(read.body.config.clientSecret, undefined);
    const listed = await api('GET', '/connectors');
    const item = listed.body.items.find((connector: { id: string }) => connector.id === 'partner-lock');
    assert.equal(item.redirectUri, `${lock.issuer}/sso/partner-lock/callback`);
    const ldapLike = listed.body.items.find((connector: { id: string }) => connector.id === 'local');
    assert.equal(ldapLike.redirectUri, undefined, 'a password connector has no redirect URI');
  });

  it('refuses an oidc connector whose upstream is not a provider, naming the step', async () => {
    const nowhere = await api('POST', '/connectors', {
      body: {
        id: 'nowhere',
        type: 'oidc',
        name: 'Nowhere',
        config: { ...oidcConfig(), issuer: `${upstream.issuer}/no-such-tenant` },
      },
    });
    assert.equal(nowhere.status, 422, nowhere.text);
    assert.equal(nowhere.body.test.steps.at(-1).step, 'discovery');
    assert.match(nowhere.body.error, /at "discovery": .*answered 404/);
    const refusal = (await api('GET', '/audit-events?type=admin.connector.save_refused&limit=1')).body
      .items[0];
    assert.equal(refusal.subject, 'nowhere');
    assert.equal(
      refusal.details.target.issuer,
      `${upstream.issuer}/no-such-tenant`,
      'the audit says where to',
    );
    assert.equal(refusal.details.failedStep, 'discovery');

    const notTokenEndpoint = await api('POST', '/connectors/test', {
      body: {
        id: 'lookalike',
        type: 'oidc',
        name: 'Lookalike',
        config: { ...oidcConfig(), issuer: lookalike.issuer, clientSecret: 'a secret for the lookalike' },
      },
    });
    assert.equal(notTokenEndpoint.status, 200, notTokenEndpoint.text);
    assert.equal(notTokenEndpoint.body.ok, false);
    assert.deepEqual(
      notTokenEndpoint.body.steps.map((step: { step: string; ok: boolean }) => [step.step, step.ok]),
      [
        ['discovery', true],
        ['jwks', true],
        ['token endpoint', false],
      ],
    );
    assert.match(notTokenEndpoint.body.steps[2].detail, /answered 200 .*400 or 401 with a JSON error/);
    assert.ok(!lookalike.received().includes('a secret for the lookalike'), 'the probe sends no secret');
    assert.match(
      lookalike.received(),
      /POST \/token .*grant_type=authorization_code/,
      'the probe reached it',
    );
    assert.equal((await api('GET', '/connectors/nowhere')).status, 404, 'nothing was saved');
  });

  it('keeps the stored client secret on an update, but needs it again when the issuer changes', async () => {
    const read = await api('GET', '/connectors/partner-lock');
    const renamed = await api('PUT', '/connectors/partner-lock', {
      body: { ...read.body, name: 'Partner Lock (renamed)' },
      ifMatch: read.etag!,
    });
    assert.equal(renamed.status, 200, renamed.text);
    assert.deepEqual(renamed.body.setSecrets, ['clientSecret'], 'the omitted secret is kept');

    const moved = { ...renamed.body.config, issuer: lookalike.issuer };
    const put = await api('PUT', '/connectors/partner-lock?test=false', {
      body: { ...renamed.body, config: moved },
      ifMatch: renamed.etag!,
    });
    assert.equal(put.status, 422, put.text);
    assert.match(problemAt(put, 'config.clientSecret')!.message, /is required again: issuer/);
    const draft = await api('POST', '/connectors/test', {
      body: { id: 'partner-lock', type: 'oidc', name: 'draft', config: moved },
    });
    assert.equal(draft.status, 422, draft.text);
    assert.ok(problemAt(draft, 'config.clientSecret'));
    assert.ok(
      !lookalike.received().includes(OIDC_SECRET),
      'the stored secret never reached the other issuer',
    );
    assert.equal((await api('GET', '/connectors/partner-lock')).etag, renamed.etag, 'nothing was saved');
  });

  it('creates an oauth2 connector after the token endpoint and its URLs answer, and treats each URL as its upstream', async () => {
    const created = await api('POST', '/connectors', {
      body: { id: 'code-host', type: 'oauth2', name: 'Code host', config: oauth2Config() },
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(
      created.body.test.steps.map((step: { step: string; ok: boolean }) => [step.step, step.ok]),
      [
        ['token endpoint', true],
        ['authorization endpoint', true],
        ['userinfo', true],
        ['groups', true],
      ],
    );
    assert.equal(created.body.redirectUri, `${lock.issuer}/sso/code-host/callback`);
    assert.deepEqual(created.body.setSecrets, ['clientSecret']);
    assert.equal(created.body.config.clientSecret, undefined);

    for (const member of ['authorizationUrl', 'tokenUrl', 'userinfoUrl', 'groupsUrl']) {
      const read = await api('GET', '/connectors/code-host');
      const patch = await api('PATCH', '/connectors/code-host?test=false', {
        body: { config: { [member]: `${lookalike.issuer}/${member}` } },
        ifMatch: read.etag!,
      });
      assert.equal(patch.status, 422, `${member}: ${patch.text}`);
      assert.match(problemAt(patch, 'config.clientSecret')!.message, new RegExp(`required again: ${member}`));
    }

    const refused = await api('POST', '/connectors/test', {
      body: {
        id: 'other-host',
        type: 'oauth2',
        name: 'Other host',
        config: { ...oauth2Config(), tokenUrl: `${lookalike.issuer}/token` },
      },
    });
    assert.equal(refused.body.ok, false);
    assert.equal(refused.body.steps[0].step, 'token endpoint');
    assert.equal(refused.body.steps.length, 1, 'the report stops at the step that failed');
  });

  it('deletes both connectors', async () => {
    for (const id of ['partner-lock', 'code-host']) {
      const read = await api('GET', `/connectors/${id}`);
      const removed = await api('DELETE', `/connectors/${id}`, { ifMatch: read.etag! });
      assert.equal(removed.status, 204, removed.text);
      assert.equal((await api('GET', `/connectors/${id}`)).status, 404);
    }
  });

  it('documents both types and the redirect URI in the OpenAPI document', async () => {
    const document = await (await fetch(`${lock.issuer}/admin/api/v1/openapi.json`)).json();
    const text = JSON.stringify(document);
    const connector = document.components.schemas.Connector;
    assert.ok(connector.properties.redirectUri, 'the view has redirectUri');
    assert.deepEqual(
      connector.properties.type.enum.filter((type: string) => type === 'oidc' || type === 'oauth2'),
      ['oidc', 'oauth2'],
    );
    for (const member of [
      'issuer',
      'authorizationUrl',
      'tokenUrl',
      'userinfoUrl',
      'groupsUrl',
      'clientSecret',
    ])
      assert.ok(text.includes(`"${member}"`), `the create body documents ${member}`);
  });

  it('never returned a secret', () => {
    assertNoSecretReturned([OIDC_SECRET, OAUTH2_SECRET]);
  });
});
