import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { parse } from 'yaml';
import { setUserDisabled, setUserRoles } from '../../src/store/users.ts';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken } from '../admin/admin-api.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { lockCommand } from '../helpers/lock-command.ts';
import { API, loginConfig, signInToWebApp, WEB_SECRET } from '../helpers/login-fixtures.ts';

const FRANK_PASSWORD = 'frank keeps a long passphrase';
const BIND_PASSWORD = 'the directory service password';

/** `lock …` against a database and keys directory, with extra environment. */
const lockCli = (args: string[], env: Record<string, string>) =>
  lockCommand(args, { env: { LOG_LEVEL: 'warn', ...env } });

describe('lock config export → lock config apply on a fresh database (GitOps round trip)', () => {
  let source: RunningLock;
  let api: AdminApi;
  let target: TestDatabase;
  let targetKeys: string;
  let copy: RunningLock | undefined;
  let jobSecret: string;
  let exported: { code: number; stdout: string; stderr: string };

  before(async () => {
    // web-app asks for EdDSA ID tokens: the export keeps the choice, and the copy honours it.
    const config = loginConfig.replace(
      '    name: Web App\n',
      '    name: Web App\n    idTokenSigningAlg: EdDSA\n',
    );
    assert.notEqual(config, loginConfig);
    source = await startLock({ config, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    api = adminApi(source.issuer, await consoleToken(source.issuer, 'admin', ADMIN_PASSWORD));
    await api('POST', '/roles', { body: { name: 'export_reader', description: 'Reads ${NOT_A_VARIABLE}' } });
    await api('PATCH', `/resources/${encodeURIComponent(API)}`, { body: {}, ifMatch: '*' });
    const job = await api('POST', '/clients', {
      body: {
        clientId: 'export-job',
        grantTypes: ['client_credentials'],
        roles: ['export_reader', 'app_readonly'],
        resources: [API],
      },
    });
    assert.equal(job.status, 201, job.text);
    jobSecret = job.body.clientSecret;
    const connector = await api('POST', '/connectors?test=false', {
      body: {
        id: 'corp-ad',
        type: 'ldap',
        name: 'Corporate directory',
        config: {
          url: 'ldaps://dc.example.com',
          bindDN: 'CN=svc,DC=example,DC=com',
          bindPassword: BIND_PASSWORD,
          activeDirectory: true,
          userSearch: { baseDN: 'DC=example,DC=com' },
        },
      },
    });
    assert.equal(connector.status, 201, connector.text);
    await api('POST', '/role-mappings', {
      body: { connector: 'corp-ad', group: 'CN=Readers,DC=example,DC=com', roles: ['export_reader'] },
    });
    const frank = await api('POST', '/users', {
      body: { username: 'frank', password: FRANK_PASSWORD, groups: ['editors'], roles: ['export_reader'] },
    });
    assert.equal(frank.status, 201);
    target = await createTestDatabase({ migrated: false });
    targetKeys = await mkdtemp(join(tmpdir(), 'lock-export-keys-'));
  });
  after(async () => {
    await copy?.close();
    await source.close();
    await source.database.drop();
    await target.drop();
  });

  it('exports the database as a file with ${VARIABLE} placeholders instead of secrets', async () => {
    exported = await lockCli(['config', 'export'], {
      DATABASE_URL: source.database.url,
      LOCK_KEYS_DIR: source.keysDir,
    });
    assert.equal(exported.code, 0, exported.stderr);
    const file = parse(exported.stdout);
    for (const secret of [jobSecret, BIND_PASSWORD, WEB_SECRET, FRANK_PASSWORD, ADMIN_PASSWORD])
      assert.ok(!exported.stdout.includes(secret), 'no secret in clear');
    const job = file.clients.find((client: { clientId: string }) => client.clientId === 'export-job');
    assert.equal(job.clientSecret, '${CLIENT_EXPORT_JOB_SECRET}');
    const webApp = file.clients.find((client: { clientId: string }) => client.clientId === 'web-app');
    assert.equal(webApp.clientSecret, '${CLIENT_WEB_APP_SECRET}');
    assert.equal(webApp.idTokenSigningAlg, 'EdDSA');
    assert.equal(job.idTokenSigningAlg, 'RS256', 'the default, written out');
    const ad = file.connectors.find((connector: { id: string }) => connector.id === 'corp-ad');
    assert.equal(ad.config.bindPassword, '${CONNECTOR_CORP_AD_BIND_PASSWORD}');
    const frank = file.users.find((user: { username: string }) => user.username === 'frank');
    assert.match(frank.passwordHash, /^\$argon2id\$/);
    assert.deepEqual(frank.roles, ['export_reader']);
    assert.equal(
      file.roles.find((role: { name: string }) => role.name === 'export_reader').description,
      'Reads $${NOT_A_VARIABLE}',
      'stored text that looks like a variable is escaped',
    );
    assert.ok(!file.roles.some((role: { name: string }) => role.name === 'lock_admin'), 'Lock’s own role');
    assert.ok(!file.clients.some((client: { clientId: string }) => client.clientId === 'lock-console'));
    for (const variable of [
      'CLIENT_EXPORT_JOB_SECRET',
      'CLIENT_WEB_APP_SECRET',
      'CONNECTOR_CORP_AD_BIND_PASSWORD',
    ])
      assert.match(exported.stderr, new RegExp(`^  ${variable}  `, 'm'));
  });

  it('applies to a fresh database and reproduces the behaviour: tokens, roles, sign-in', async () => {
    const file = join(targetKeys, 'exported.yaml');
    await writeFile(file, exported.stdout);
    const withoutVariables = await lockCli(['config', 'apply', file], {
      DATABASE_URL: target.url,
      LOCK_KEYS_DIR: targetKeys,
    });
    assert.equal(withoutVariables.code, 2);
    assert.match(withoutVariables.stderr, /environment variable CLIENT_EXPORT_JOB_SECRET is not set/);

    const variables = {
      CLIENT_EXPORT_JOB_SECRET: jobSecret,
      CLIENT_WEB_APP_SECRET: WEB_SECRET,
      CLIENT_PARTNER_APP_SECRET: WEB_SECRET,
      CONNECTOR_CORP_AD_BIND_PASSWORD: BIND_PASSWORD,
    };
    const applied = await lockCli(['config', 'apply', file], {
      DATABASE_URL: target.url,
      LOCK_KEYS_DIR: targetKeys,
      ...variables,
    });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /created client export-job/);

    copy = await startLock({ database: target, keysDir: targetKeys });
    const token = await postForm(
      `${copy.issuer}/token`,
      { grant_type: 'client_credentials', resource: API },
      ['export-job', jobSecret],
    );
    assert.equal(token.status, 200, JSON.stringify(token.body));
    const original = await postForm(
      `${source.issuer}/token`,
      { grant_type: 'client_credentials', resource: API },
      ['export-job', jobSecret],
    );
    const claims = decodeJwt(token.body.access_token as string);
    assert.deepEqual(
      claims.roles,
      ['app_readonly'],
      'the resource accepts app_readonly of the client’s roles',
    );
    assert.deepEqual(
      claims.roles,
      decodeJwt(original.body.access_token as string).roles,
      'as before the export',
    );

    const { tokens, html } = await signInToWebApp(copy.issuer, 'frank', FRANK_PASSWORD);
    assert.ok(tokens, `frank signs in with the password whose hash was exported: ${html}`);
    assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'EdDSA', 'web-app’s ID token algorithm');
    assert.deepEqual(decodeJwt(tokens.access_token).roles, ['app_readwrite'], 'editors → app_readwrite');

    const copyApi = adminApi(copy.issuer, await consoleToken(copy.issuer, 'admin', ADMIN_PASSWORD));
    const connector = await copyApi('GET', '/connectors/corp-ad');
    assert.equal(connector.body.managedBy, 'config', 'from now on the file owns what it declares');
    assert.deepEqual(connector.body.setSecrets, ['bindPassword']);
  });

  it('exports the copy as the same file: the round trip is stable', async () => {
    const again = await lockCli(['config', 'export'], {
      DATABASE_URL: target.url,
      LOCK_KEYS_DIR: targetKeys,
    });
    assert.equal(again.code, 0, again.stderr);
    const body = (text: string) => text.replace(/^#.*\n/gm, '');
    assert.equal(body(again.stdout), body(exported.stdout));
  });

  it('lock admin bootstrap repairs the admin account', async () => {
    const env = { DATABASE_URL: source.database.url, LOCK_KEYS_DIR: source.keysDir };
    const admin = (await api('GET', '/users?search=admin')).body.items.find(
      (user: { username: string }) => user.username === 'admin',
    );
    assert.equal(
      (await api('PATCH', `/users/${admin.id}`, { body: { roles: [] }, ifMatch: '*' })).status,
      409,
      'the API refuses to leave no lock_admin able to sign in',
    );
    // What repair is for: an admin account broken behind Lock's back (a hand edit of the database).
    await setUserRoles(source.database.pool, admin.id, []);
    await setUserDisabled(source.database.pool, admin.id, true);
    const repaired = await lockCli(['admin', 'bootstrap'], env);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.match(repaired.stdout, /admin: enabled the account/);
    assert.match(repaired.stdout, /admin: granted lock_admin/);
    assert.ok(await consoleToken(source.issuer, 'admin', ADMIN_PASSWORD));

    const reset = await lockCli(['admin', 'bootstrap', '--reset-password'], env);
    const password = /shown once, store it now\): (\S+)/.exec(reset.stdout)?.[1];
    assert.ok(password, reset.stdout);
    const token = await consoleToken(source.issuer, 'admin', password);
    assert.equal((await adminApi(source.issuer, token)('GET', '/roles')).status, 200);
    assert.match((await lockCli(['admin', 'bootstrap'], env)).stdout, /nothing to repair/);
  });
});
