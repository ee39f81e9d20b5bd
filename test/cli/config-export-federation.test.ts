// `lock config export` → `lock config apply` with the two federation connector types (oidc,
// oauth2): their client secrets leave only as ${VARIABLE} placeholders, come back sealed with the
// value the variable gave, stay write-only in the admin API, and a second export is the same file.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { sealConnectorSecrets } from '../../src/connectors/connector-secrets.ts';
import { loadKeyEncryptionKey, SecretBox } from '../../src/security/secret-box.ts';
import { listConnectors } from '../../src/store/catalog-repositories.ts';
import {
  ADMIN_PASSWORD,
  type AdminApi,
  adminApi,
  assertNoSecretReturned,
  consoleToken,
} from '../admin/admin-api.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { lockCommand } from '../helpers/lock-command.ts';

const ENTRA_SECRET = 'the entra client secret value';
const GITHUB_SECRET = 'the github client secret value';

/** `lock …` against a database and keys directory, with extra environment. */
const lockCli = (args: string[], env: Record<string, string>) =>
  lockCommand(args, { env: { LOG_LEVEL: 'warn', ...env } });

const ENTRA = {
  id: 'corp-entra',
  type: 'oidc',
  name: 'Microsoft Entra ID',
  config: {
    issuer: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
    clientId: '11111111-1111-1111-1111-111111111111',
    clientSecret: ENTRA_SECRET,
    scopes: ['openid', 'profile', 'email'],
    claims: { username: 'preferred_username', email: 'email', name: 'name', groups: 'groups' },
  },
};

const GITHUB = {
  id: 'github',
  type: 'oauth2',
  name: 'GitHub',
  config: {
    authorizationUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    userinfoUrl: 'https://api.github.com/user',
    groupsUrl: 'https://api.github.com/user/orgs',
    clientId: 'Iv1.0123456789abcdef',
    clientSecret: GITHUB_SECRET,
    scopes: ['read:user', 'read:org'],
    claims: { id: 'id', username: 'login', email: 'email', name: 'name', groups: '[].login' },
  },
};

describe('lock config export → apply round-trips oidc and oauth2 connectors, secrets write-only', () => {
  let source: RunningLock;
  let api: AdminApi;
  let target: TestDatabase;
  let targetKeys: string;
  let copy: RunningLock | undefined;
  let exported: { code: number; stdout: string; stderr: string };

  before(async () => {
    source = await startLock({ env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    api = adminApi(source.issuer, await consoleToken(source.issuer, 'admin', ADMIN_PASSWORD));
    // Saved without the connection test: these upstreams are the real services' addresses.
    for (const connector of [ENTRA, GITHUB]) {
      const created = await api('POST', '/connectors?test=false', { body: connector });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.body.setSecrets, ['clientSecret']);
    }
    target = await createTestDatabase({ migrated: false });
    targetKeys = await mkdtemp(join(tmpdir(), 'lock-export-federation-'));
  });
  after(async () => {
    await copy?.close();
    await source?.close();
    await source?.database.drop();
    await target?.drop();
  });

  it('exports each client secret as a ${VARIABLE} and everything else as configured', async () => {
    exported = await lockCli(['config', 'export'], {
      DATABASE_URL: source.database.url,
      LOCK_KEYS_DIR: source.keysDir,
    });
    assert.equal(exported.code, 0, exported.stderr);
    for (const secret of [ENTRA_SECRET, GITHUB_SECRET])
      assert.ok(!exported.stdout.includes(secret) && !exported.stderr.includes(secret), 'no secret in clear');
    const file = parse(exported.stdout);
    const byId = (id: string) => file.connectors.find((connector: { id: string }) => connector.id === id);
    const { clientSecret: _, ...entraPlain } = ENTRA.config;
    assert.deepEqual(
      { ...byId('corp-entra'), config: { ...byId('corp-entra').config, ...entraPlain } },
      byId('corp-entra'),
      'every member as configured (the schema may add its defaults)',
    );
    assert.equal(byId('corp-entra').config.clientSecret, '${CONNECTOR_CORP_ENTRA_CLIENT_SECRET}');
    assert.equal(byId('github').config.clientSecret, '${CONNECTOR_GITHUB_CLIENT_SECRET}');
    assert.equal(byId('github').config.claims.groups, '[].login');
    assert.equal(byId('github').config.groupsUrl, GITHUB.config.groupsUrl);
    for (const variable of ['CONNECTOR_CORP_ENTRA_CLIENT_SECRET', 'CONNECTOR_GITHUB_CLIENT_SECRET'])
      assert.match(exported.stderr, new RegExp(`^  ${variable}  `, 'm'));
  });

  it('applies to a fresh database: the secrets sealed with the variables’ values, write-only in the API', async () => {
    const path = join(targetKeys, 'exported.yaml');
    await writeFile(path, exported.stdout);
    const env = { DATABASE_URL: target.url, LOCK_KEYS_DIR: targetKeys };
    const missing = await lockCli(['config', 'apply', path], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /environment variable CONNECTOR_\w+_CLIENT_SECRET is not set/);

    const applied = await lockCli(['config', 'apply', path], {
      ...env,
      CONNECTOR_CORP_ENTRA_CLIENT_SECRET: ENTRA_SECRET,
      CONNECTOR_GITHUB_CLIENT_SECRET: GITHUB_SECRET,
    });
    assert.equal(applied.code, 0, applied.stderr);
    assert.ok(!applied.stdout.includes(ENTRA_SECRET) && !applied.stderr.includes(ENTRA_SECRET));

    const box = new SecretBox((await loadKeyEncryptionKey({ keysDir: targetKeys })).key);
    const stored = await listConnectors(target.pool);
    for (const [connector, secret] of [
      [ENTRA, ENTRA_SECRET],
      [GITHUB, GITHUB_SECRET],
    ] as const) {
      const row = stored.find((each) => each.id === connector.id);
      assert.ok(row, `${connector.id} applied`);
      assert.equal(row.type, connector.type);
      assert.ok(!JSON.stringify(row.config).includes(secret), 'sealed at rest');
      assert.equal(sealConnectorSecrets.open(row.config, box, row.id).clientSecret, secret);
    }

    copy = await startLock({ database: target, keysDir: targetKeys });
    const copyApi = adminApi(copy.issuer, await consoleToken(copy.issuer, 'admin', ADMIN_PASSWORD));
    const entra = await copyApi('GET', '/connectors/corp-entra');
    assert.equal(entra.status, 200, entra.text);
    assert.equal(entra.body.managedBy, 'config');
    assert.deepEqual(entra.body.setSecrets, ['clientSecret']);
    assert.equal(entra.body.config.clientSecret, undefined);
    assert.equal(entra.body.redirectUri, `${copy.issuer}/sso/corp-entra/callback`);
    const github = await copyApi('GET', '/connectors/github');
    assert.deepEqual(github.body.setSecrets, ['clientSecret']);
    assert.equal(github.body.redirectUri, `${copy.issuer}/sso/github/callback`);
    assertNoSecretReturned([ENTRA_SECRET, GITHUB_SECRET]);
  });

  it('exports the copy as the same file', async () => {
    const again = await lockCli(['config', 'export'], {
      DATABASE_URL: target.url,
      LOCK_KEYS_DIR: targetKeys,
    });
    assert.equal(again.code, 0, again.stderr);
    const body = (text: string) => text.replace(/^#.*\n/gm, '');
    assert.equal(body(again.stdout), body(exported.stdout));
  });
});
