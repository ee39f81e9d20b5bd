import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { openLdapEnv as ldap, openLdapConsoleConfig } from '../helpers/directories.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { loginConfig, signInToWebApp } from '../helpers/login-fixtures.ts';
import {
  ADMIN_PASSWORD,
  type AdminApi,
  adminApi,
  assertNoSecretReturned,
  consoleToken,
  problemAt,
} from './admin-api.ts';

/** A connector config for the test OpenLDAP, as an admin would type it into the console. */
const ldapConfig = (extra: Record<string, unknown> = {}) =>
  openLdapConsoleConfig({ connectTimeoutMs: 1000, timeoutMs: 2000, ...extra });

/** IdP metadata with a signing certificate of its own (openssl), as an IdP would publish it. */
async function idpMetadata(entityId: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lock-admin-idp-'));
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '30',
      '-subj',
      '/CN=test idp',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    const certificate = (await readFile(join(dir, 'cert.pem'), 'utf8')).replace(/-----[^-]+-----|\s/g, '');
    return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityId}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${entityId}/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The message id and operation tag of an LDAP message (BER), enough to answer a search. */
function ldapMessageHead(message: Buffer): { id: number; operation: number } | undefined {
  if (message[0] !== 0x30 || message[1] === undefined) return undefined;
  const at = 2 + (message[1] & 0x80 ? message[1] & 0x7f : 0); // the SEQUENCE's length
  if (message[at] !== 0x02 || message[at + 1] !== 1) return undefined; // a one-byte INTEGER message id
  return { id: message[at + 2]!, operation: message[at + 3]! };
}

/**
 * A server that is not the directory (an attacker's, say): it records every byte a client sends,
 * answers searches (Lock's probe of the root DSE) with an empty success, and hangs up on anything else.
 */
async function recordingServer() {
  const received: Buffer[] = [];
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections += 1;
    socket.on('data', (chunk) => {
      received.push(chunk);
      const head = ldapMessageHead(chunk);
      // SearchResultDone: success, no matched DN, no message.
      if (head?.operation === 0x63)
        socket.write(
          Buffer.from([
            0x30,
            0x0c,
            0x02,
            0x01,
            head.id,
            0x65,
            0x07,
            0x0a,
            0x01,
            0x00,
            0x04,
            0x00,
            0x04,
            0x00,
          ]),
        );
      else socket.destroy();
    });
    socket.on('error', () => {});
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `ldap://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => Buffer.concat(received).toString('latin1'),
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('admin API: connectors', () => {
  let lock: RunningLock;
  let api: AdminApi;
  let metadataServer: Server;
  let metadataUrl: string;

  before(async () => {
    lock = await startLock({ config: loginConfig, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    const served = await idpMetadata('https://idp-by-url.example.com');
    metadataServer = createServer((_request, response) => {
      response.setHeader('content-type', 'application/samlmetadata+xml');
      response.end(served);
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => metadataServer.once('listening', resolve));
    metadataUrl = `http://127.0.0.1:${(metadataServer.address() as AddressInfo).port}/metadata`;
  });
  after(async () => {
    metadataServer.close();
    await lock.close();
    await lock.database.drop();
  });

  it('adds an LDAP connector after a passing connection test, and never shows its bind password', async () => {
    const created = await api('POST', '/connectors', {
      body: { id: 'corp', type: 'ldap', name: 'Corporate directory', config: ldapConfig() },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.test.ok, true);
    assert.deepEqual(
      created.body.test.steps.map((step: { step: string }) => step.step),
      ['connect', 'tls', 'service bind', 'user search', 'groups'],
    );
    assert.deepEqual(created.body.setSecrets, ['bindPassword']);
    assert.equal(created.body.config.bindPassword, undefined);
    assert.equal(created.body.config.bindDN, ldap('BIND_DN'));

    const list = await api('GET', '/connectors');
    assert.deepEqual(
      list.body.items.map((connector: { id: string }) => connector.id),
      ['local', 'corp'],
      'login order: a new connector goes last',
    );
  });

  it('refuses to save a connector whose connection test fails, naming the step; ?test=false saves anyway', async () => {
    const body = {
      id: 'corp-wrong',
      type: 'ldap',
      name: 'Wrong password',
      config: ldapConfig({ bindPassword: 'not-the-service-password' }),
    };
    const refused = await api('POST', '/connectors', { body });
    assert.equal(refused.status, 422);
    const failed = refused.body.test.steps.at(-1);
    assert.equal(failed.step, 'service bind');
    assert.equal(failed.ok, false);
    assert.match(failed.detail, /invalid credentials|49/i);
    assert.equal((await api('GET', '/connectors/corp-wrong')).status, 404);

    const saved = await api('POST', '/connectors?test=false', { body });
    assert.equal(saved.status, 201);
    assert.equal(saved.body.test, undefined);
    const tested = await api('POST', '/connectors/corp-wrong/test');
    assert.equal(tested.status, 200);
    assert.equal(tested.body.ok, false);
    assert.equal((await api('DELETE', '/connectors/corp-wrong', { ifMatch: saved.etag! })).status, 204);
  });

  it('validates the config with the per-type schema, naming each field', async () => {
    const invalid = await api('POST', '/connectors', {
      body: {
        id: 'bad',
        type: 'ldap',
        name: 'Bad',
        config: { url: 'http://not-ldap', bindDN: 'cn=x', bindPassword: 'x', userSearch: {} },
      },
    });
    assert.equal(invalid.status, 422);
    assert.ok(problemAt(invalid, 'config.url'), invalid.text);
    assert.ok(problemAt(invalid, 'config.userSearch.baseDN'), invalid.text);
    const everything = await api('POST', '/connectors', {
      body: { id: 'bare', type: 'ldap', position: -1, config: { bindDN: 'cn=x', bindPassword: 'x' } },
    });
    assert.equal(everything.status, 422);
    assert.deepEqual(
      everything.body.problems.map((problem: { path: string }) => problem.path).sort(),
      ['config.url', 'config.userSearch', 'name', 'position'],
      'every problem at once, not the first one only',
    );
    const saml = await api('POST', '/connectors', {
      body: { id: 'bare-saml', type: 'saml', name: 'X', config: { wantAssertionsSigned: 'yes' } },
    });
    assert.ok(problemAt(saml, 'config.wantAssertionsSigned'), saml.text);
    assert.ok(problemAt(saml, 'config.idpMetadataUrl'), saml.text);
    const unknownType = await api('POST', '/connectors', { body: { id: 'x', type: 'kerberos', name: 'X' } });
    assert.equal(unknownType.status, 422);
    assert.match(problemAt(unknownType, 'type')!.message, /must be one of "local", "ldap", "saml"/);
  });

  it('keeps the stored bind password when an update leaves it out, and tests what is stored', async () => {
    const read = await api('GET', '/connectors/corp');
    const renamed = await api('PUT', '/connectors/corp', {
      body: { ...read.body, name: 'Corporate directory (EU)' },
      ifMatch: read.etag!,
    });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.test.ok, true, 'the test bound with the stored password');
    assert.deepEqual(renamed.body.setSecrets, ['bindPassword']);

    const wrong = await api('PATCH', '/connectors/corp', {
      body: { config: { bindPassword: 'wrong-password-here' } },
      ifMatch: renamed.etag!,
    });
    assert.equal(wrong.status, 422);
    assert.equal(
      (await api('GET', '/connectors/corp')).etag,
      renamed.etag,
      'a refused change leaves it as it was',
    );

    const typeChange = await api('PUT', '/connectors/corp', {
      body: { ...read.body, type: 'saml' },
      ifMatch: renamed.etag!,
    });
    assert.equal(typeChange.status, 422);
    assert.ok(problemAt(typeChange, 'type'));

    const tested = await api('POST', '/connectors/corp/test', { body: { username: 'dave' } });
    assert.equal(tested.body.ok, true);
    assert.match(tested.body.steps.at(-1).detail, /engineering/);

    const draft = await api('POST', '/connectors/test', {
      body: { id: 'corp', type: 'ldap', name: 'draft', config: { ...read.body.config, timeoutMs: 3000 } },
    });
    assert.equal(draft.status, 200);
    assert.equal(draft.body.ok, true, 'a draft of a saved connector borrows its stored secrets');

    const unreachable = await api('POST', '/connectors/test', {
      body: {
        id: 'elsewhere',
        type: 'ldap',
        name: 'draft',
        config: ldapConfig({ url: 'ldap://127.0.0.1:9', startTLS: false, insecureNoTLS: true }),
      },
    });
    assert.equal(unreachable.status, 200);
    assert.equal(unreachable.body.ok, false);
    assert.equal(unreachable.body.steps[0].step, 'connect');
  });

  it('lets a directory user sign in with the role an API-made mapping gives their group', async () => {
    const mapping = await api('POST', '/role-mappings', {
      body: { connector: 'corp', group: 'engineering', roles: ['app_readwrite'] },
    });
    assert.equal(mapping.status, 201);
    const { tokens, html } = await signInToWebApp(lock.issuer, 'dave', 'dave-password');
    assert.ok(tokens, html);
    const claims = decodeJwt(tokens.access_token);
    assert.deepEqual(claims.roles, ['app_readwrite']);
    assert.equal(claims.idp, 'corp');

    const blocked = await api('DELETE', '/connectors/corp', { ifMatch: '*' });
    assert.equal(blocked.status, 409, 'a connector a role mapping uses stays');
    assert.match(blocked.body.error, /role mapping corp → engineering/);
  });

  it('adds a SAML connector from IdP metadata XML, serves its SP metadata, and re-imports by URL', async () => {
    const created = await api('POST', '/connectors', {
      body: {
        id: 'partner',
        type: 'saml',
        name: 'Partner SSO',
        config: {
          idpMetadataXml: await idpMetadata('https://idp.example.com'),
          groupsAttribute: 'groups',
          // The re-import below is by an http:// URL (a local test server).
          allowInsecureMetadataUrl: true,
        },
      },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.test.steps[0].step, 'idp metadata');
    assert.match(created.body.test.steps[0].detail, /IdP https:\/\/idp\.example\.com/);

    const sp = await api('GET', '/connectors/partner/sp-metadata');
    assert.equal(sp.status, 200);
    assert.match(sp.headers.get('content-type')!, /application\/samlmetadata\+xml/);
    assert.match(sp.text, /EntityDescriptor/);
    assert.ok(sp.text.includes(`${lock.issuer}/saml/partner/acs`));
    assert.equal((await api('GET', '/connectors/corp/sp-metadata')).status, 404);

    const byUrl = await api('POST', '/connectors/partner/idp-metadata', {
      body: { url: metadataUrl },
      ifMatch: created.etag!,
    });
    assert.equal(byUrl.status, 200, byUrl.text);
    assert.equal(byUrl.body.config.idpMetadataUrl, metadataUrl);
    assert.equal(byUrl.body.config.idpMetadataXml, undefined);
    assert.match(byUrl.body.test.steps[0].detail, /idp-by-url\.example\.com/);

    const broken = await api('POST', '/connectors/partner/idp-metadata', {
      body: { xml: '<not-metadata/>' },
    });
    assert.equal(broken.status, 422);
    assert.equal(broken.body.test.ok, false);
    assert.equal((await api('GET', '/connectors/partner')).body.config.idpMetadataUrl, metadataUrl);
    const both = await api('POST', '/connectors/partner/idp-metadata', {
      body: { url: metadataUrl, xml: '<x/>' },
    });
    assert.equal(both.status, 422);
    assert.equal(
      (await api('POST', '/connectors/corp/idp-metadata', { body: { url: metadataUrl } })).status,
      409,
    );
  });

  it('audits connector changes naming a changed secret without its value', async () => {
    const read = await api('GET', '/connectors/corp');
    const changed = await api('PATCH', '/connectors/corp', {
      body: { config: { bindPassword: ldap('BIND_PASSWORD') } },
      ifMatch: read.etag!,
    });
    assert.equal(changed.status, 200, changed.text);
    const events = await api('GET', '/audit-events?type=admin.connector.updated&limit=1');
    const [event] = events.body.items;
    assert.equal(event.subject, 'corp');
    assert.deepEqual(event.details.changes, []);
    const secretChanged = await api('PATCH', '/connectors/corp?test=false', {
      body: { name: 'Corporate directory', config: { bindPassword: 'temporarily-another-password' } },
      ifMatch: changed.etag!,
    });
    assert.equal(secretChanged.status, 200);
    const latest = (await api('GET', '/audit-events?type=admin.connector.*&limit=1')).body.items[0];
    assert.deepEqual(latest.details.changes, [
      { path: 'config.bindPassword', secret: true },
      { path: 'name', from: 'Corporate directory (EU)', to: 'Corporate directory' },
    ]);
    const restored = await api('PATCH', '/connectors/corp', {
      body: { config: { bindPassword: ldap('BIND_PASSWORD') } },
      ifMatch: secretChanged.etag!,
    });
    assert.equal(restored.body.test.ok, true);
  });

  it('never sends a stored bind password to a new url or over plain text: it must be given again', async () => {
    const attacker = await recordingServer();
    try {
      const read = await api('GET', '/connectors/corp');
      const elsewhere = { ...read.body.config, url: attacker.url, startTLS: false, insecureNoTLS: true };
      delete elsewhere.caFile;
      const draft = await api('POST', '/connectors/test', {
        body: { id: 'corp', type: 'ldap', name: 'draft', config: elsewhere },
      });
      assert.ok(
        !attacker.received().includes(ldap('BIND_PASSWORD')),
        'the stored password reached the other server',
      );
      assert.equal(draft.status, 422, draft.text);
      assert.match(problemAt(draft, 'config.bindPassword')!.message, /is required again: url, startTLS/);
      const put = await api('PUT', '/connectors/corp?test=true', {
        body: { ...read.body, config: elsewhere },
        ifMatch: read.etag!,
      });
      assert.equal(put.status, 422, put.text);
      assert.ok(problemAt(put, 'config.bindPassword'));
      const patch = await api('PATCH', '/connectors/corp?test=false', {
        body: { config: { url: attacker.url, startTLS: false, insecureNoTLS: true, caFile: null } },
        ifMatch: read.etag!,
      });
      assert.equal(patch.status, 422, patch.text);
      assert.ok(problemAt(patch, 'config.bindPassword'));
      const trustOff = await api('POST', '/connectors/test', {
        body: {
          id: 'corp',
          type: 'ldap',
          name: 'draft',
          config: { ...read.body.config, insecureSkipVerify: true },
        },
      });
      assert.equal(trustOff.status, 422, 'turning certificate checks off is a new target too');
      assert.equal(attacker.connections(), 0, 'nothing reached the other server');
      assert.equal((await api('GET', '/connectors/corp')).etag, read.etag, 'nothing was saved');

      // With a password of its own, the draft goes there — and only that password does.
      const own = await api('POST', '/connectors/test', {
        body: {
          id: 'corp',
          type: 'ldap',
          name: 'draft',
          config: { ...elsewhere, bindPassword: 'a password meant for the new server' },
        },
      });
      assert.equal(own.status, 200, own.text);
      assert.equal(own.body.ok, false);
      assert.equal(attacker.connections(), 1, JSON.stringify([own.body, attacker.received()]));
      assert.ok(attacker.received().includes('a password meant for the new server'), 'the recorder works');
      assert.ok(!attacker.received().includes(ldap('BIND_PASSWORD')), 'the stored password never left');

      const audited = await api('GET', '/audit-events?type=admin.connector.tested&limit=1');
      const [event] = audited.body.items;
      assert.equal(event.subject, 'corp');
      assert.equal(event.outcome, 'failure');
      assert.equal(event.details.target.url, attacker.url);
      assert.equal(event.details.draft, true);
      assert.ok(event.actor, 'who tested');
      assert.ok(!JSON.stringify(event).includes('a password meant for the new server'));

      const stored = await api('POST', '/connectors/corp/test');
      assert.equal(stored.body.ok, true);
      const latest = (await api('GET', '/audit-events?type=admin.connector.tested&limit=1')).body.items[0];
      assert.deepEqual(
        { outcome: latest.outcome, draft: latest.details.draft, url: latest.details.target.url },
        { outcome: 'success', draft: false, url: ldap('URL') },
      );

      const refused = await api('PATCH', '/connectors/corp', {
        body: { config: { bindPassword: 'not-the-service-password' } },
        ifMatch: read.etag!,
      });
      assert.equal(refused.status, 422);
      const refusal = (await api('GET', '/audit-events?type=admin.connector.save_refused&limit=1')).body
        .items[0];
      assert.deepEqual(
        { subject: refusal.subject, outcome: refusal.outcome, step: refusal.details.failedStep },
        { subject: 'corp', outcome: 'failure', step: 'service bind' },
      );
    } finally {
      await attacker.close();
    }
  });

  it('never returned a secret', () => {
    assertNoSecretReturned([
      ldap('BIND_PASSWORD'),
      'not-the-service-password',
      'wrong-password-here',
      ADMIN_PASSWORD,
    ]);
  });
});
