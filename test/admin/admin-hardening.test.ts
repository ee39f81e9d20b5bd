import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDeclarative } from '../../src/admin/declarative/file.ts';
import type { ConfigError } from '../../src/config/schema-errors.ts';
import { openLdapEnv as ldap } from '../helpers/directories.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { loginConfig } from '../helpers/login-fixtures.ts';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken, problemAt } from './admin-api.ts';

const UNSAFE_REDIRECTS = [
  'javascript:alert(document.cookie)//',
  'JavaScript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'vbscript:msgbox(1)',
  'file:///etc/passwd',
  'myapp:/callback', // a private-use scheme must be a reverse domain name (RFC 8252 §7.1)
];

describe('admin API: paths, redirect URIs and admin clients', () => {
  let lock: RunningLock;
  let api: AdminApi;
  let dir: string;
  /** Three kinds of wrong path: missing, a directory, and a file that is not what is asked for. */
  let paths: string[];

  before(async () => {
    lock = await startLock({ config: loginConfig, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    dir = await mkdtemp(join(tmpdir(), 'lock-admin-paths-'));
    await writeFile(join(dir, 'notes.txt'), 'not a certificate, not metadata\n');
    paths = [join(dir, 'missing', 'file.pem'), dir, join(dir, 'notes.txt')];
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The failed step's detail with the path taken out: what it says about the path itself. */
  const failure = (report: { steps: Array<{ ok: boolean; step: string; detail: string }> }, path: string) => {
    const failed = report.steps.find((step) => !step.ok);
    assert.ok(failed, JSON.stringify(report));
    return `${failed.step}: ${failed.detail.replaceAll(path, '<path>')}`;
  };

  it('caFile: the same answer whether a path is missing, a directory or not a certificate', async () => {
    const answers = new Set<string>();
    for (const path of paths) {
      const tested = await api('POST', '/connectors/test', {
        body: {
          id: 'probe',
          type: 'ldap',
          name: 'probe',
          config: {
            url: ldap('URL'),
            startTLS: true,
            caFile: path,
            bindDN: ldap('BIND_DN'),
            bindPassword: ldap('BIND_PASSWORD'),
            userSearch: { baseDN: ldap('BASE_DN') },
          },
        },
      });
      assert.equal(tested.status, 200, tested.text);
      assert.equal(tested.body.ok, false);
      answers.add(failure(tested.body, path));
    }
    assert.equal(answers.size, 1, [...answers].join('\n'));
    assert.doesNotMatch([...answers][0]!, /ENOENT|EISDIR|EACCES|no such file/i);
  });

  it('idpMetadataFile: the same answer whether a path is missing, a directory or not metadata', async () => {
    const answers = new Set<string>();
    for (const path of paths) {
      const tested = await api('POST', '/connectors/test', {
        body: { id: 'probe', type: 'saml', name: 'probe', config: { idpMetadataFile: path } },
      });
      assert.equal(tested.status, 200, tested.text);
      assert.equal(tested.body.ok, false);
      answers.add(failure(tested.body, path));
    }
    assert.equal(answers.size, 1, [...answers].join('\n'));
    assert.doesNotMatch([...answers][0]!, /ENOENT|EISDIR|EACCES|no such file/i);
  });

  it('refuses javascript:, data:, vbscript:, file: and non-domain private-use redirect URIs when stored', async () => {
    for (const uri of UNSAFE_REDIRECTS) {
      const created = await api('POST', '/clients', {
        body: { clientId: 'unsafe-app', public: true, redirectUris: [uri] },
      });
      assert.equal(created.status, 422, `${uri}: ${created.text}`);
      assert.match(problemAt(created, 'redirectUris[0]')!.message, /http\(s\) URL, or a native app/);
      const logout = await api('POST', '/clients', {
        body: {
          clientId: 'unsafe-app',
          public: true,
          redirectUris: ['https://app.example.com/cb'],
          postLogoutRedirectUris: [uri],
        },
      });
      assert.equal(logout.status, 422, `${uri}: ${logout.text}`);
      assert.ok(problemAt(logout, 'postLogoutRedirectUris[0]'));
    }
    assert.equal((await api('GET', '/clients/unsafe-app')).status, 404);
    const native = await api('POST', '/clients', {
      body: { clientId: 'native-app', public: true, redirectUris: ['com.example.app:/callback'] },
    });
    assert.equal(native.status, 201, native.text);
    assert.throws(
      () =>
        parseDeclarative(
          'clients:\n  - { clientId: x, public: true, redirectUris: ["javascript:alert(1)//"] }\n',
          'lock.yaml',
          {},
        ),
      (error: ConfigError) =>
        error.problems.some((problem) => problem.startsWith('clients[0].redirectUris[0]: ')),
    );
  });

  it('giving a client lock_admin answers with a warning and is audited; other clients get none', async () => {
    const automation = await api('POST', '/clients', {
      body: {
        clientId: 'automation',
        grantTypes: ['client_credentials'],
        roles: ['lock_admin'],
        resources: [`${lock.issuer}/admin`],
      },
    });
    assert.equal(automation.status, 201, automation.text);
    assert.equal(automation.body.warnings.length, 1);
    assert.match(automation.body.warnings[0], /"automation" now holds lock_admin/);
    const [event] = (await api('GET', '/audit-events?type=admin.client.admin_role_granted')).body.items;
    assert.equal(event.subject, 'automation');
    assert.ok(event.actor);

    const reporting = await api('POST', '/clients', {
      body: { clientId: 'reporting', grantTypes: ['client_credentials'], roles: ['app_readonly'] },
    });
    assert.equal(reporting.status, 201);
    assert.equal(reporting.body.warnings, undefined);
    const promoted = await api('PATCH', '/clients/reporting', {
      body: { roles: ['app_readonly', 'lock_admin'] },
      ifMatch: reporting.etag!,
    });
    assert.equal(promoted.status, 200, promoted.text);
    assert.match(promoted.body.warnings[0], /"reporting" now holds lock_admin/);
    const renamed = await api('PATCH', '/clients/reporting', { body: { name: 'Reporting' }, ifMatch: '*' });
    assert.equal(renamed.body.warnings, undefined, 'only when the role is given, not on every save');
    const events = (await api('GET', '/audit-events?type=admin.client.admin_role_granted')).body.items;
    assert.deepEqual(
      events.map((each: { subject: string }) => each.subject),
      ['reporting', 'automation'],
    );
  });
});
