import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ensureAdminRole } from '../../src/admin/bootstrap.ts';
import { applyDeclarativeConfig } from '../../src/admin/declarative/apply.ts';
import { parseDeclarative } from '../../src/admin/declarative/file.ts';
import { ConfigError } from '../../src/config/schema-errors.ts';
import { SecretBox } from '../../src/security/secret-box.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, startLock } from '../helpers/lock.ts';

const run = promisify(execFile);
const problemsOf = (text: string, env: NodeJS.ProcessEnv = {}) => {
  try {
    parseDeclarative(text, 'lock.yaml', env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected the file to be refused');
};

describe('declarative configuration: validation', () => {
  it('names the field path of each problem', () => {
    const problems = problemsOf(`
clients:
  - clientId: a
    clientSecret: 0123456789abcdef
    grantTypes: [client_credentials]
  - clientId: b
    clientSecret: 0123456789abcdef
    grantTypes: [client_credentials, password]
  - clientId: c
    clientSecret: 0123456789abcdef
    redirectUris: [https://app.example.com/cb]
    idTokenSigningAlg: HS256
resources:
  - id: not a url
    signingAlg: HS256
`);
    assert.ok(
      problems.some((p) =>
        /^clients\[1\]\.grantTypes\[1\]: must be one of "authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange", "urn:ietf:params:oauth:grant-type:device_code"$/.test(
          p,
        ),
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('resources[0].id: ')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /^resources\[0\]\.signingAlg: must be one of "RS256", "ES256", "EdDSA"$/.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.includes('clients[2].idTokenSigningAlg: must be one of "RS256", "ES256", "EdDSA"'),
      problems.join('\n'),
    );
  });

  it('refuses unknown keys, missing secrets, duplicates and unset variables', () => {
    const problems = problemsOf(
      `
clients:
  - { clientId: web, redirectUris: [https://app.example.com/cb], colour: blue }
  - { clientId: svc, clientSecret: "\${SVC_SECRET}", grantTypes: [client_credentials] }
`,
      {},
    );
    assert.ok(problems.includes('clients[0]: unknown key "colour"'), problems.join('\n'));
    assert.ok(
      problems.includes('clients[1].clientSecret: environment variable SVC_SECRET is not set'),
      problems.join('\n'),
    );
    assert.ok(
      problems.includes(
        'clients[0].clientSecret: is required for a confidential client (or set public: true)',
      ),
    );
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.deepEqual(problemsOf('roles: [{ name: a }, { name: b }, { name: a }]'), [
      'roles[2].name: "a" is already declared at roles[0]',
    ]);
  });

  it('refuses a control character (NUL above all) in a value or a key, naming where', () => {
    const problems = problemsOf(`
roles:
  - { name: reader, description: "reads\\0 everything" }
users:
  - { username: "eve\\u0007", password: a-long-enough-password }
`);
    assert.ok(
      problems.includes('roles[0].description: contains a control character (U+0000)'),
      problems.join('\n'),
    );
    assert.ok(
      problems.includes('users[0].username: contains a control character (U+0007)'),
      problems.join('\n'),
    );
  });

  it('interpolates ${ENV} into values, with defaults and $$ escapes', () => {
    const config = parseDeclarative(
      `
clients:
  - clientId: svc
    clientSecret: \${SVC_SECRET}
    name: "\${NAME:-Reporting} costs $\${PRICE}"
    grantTypes: [client_credentials]
`,
      'lock.yaml',
      { SVC_SECRET: 'from-the-environment-0123' },
    );
    assert.equal(config.clients[0]?.clientSecret, 'from-the-environment-0123');
    assert.equal(config.clients[0]?.name, 'Reporting costs ${PRICE}');
  });

  it('`lock config check` exits non-zero and prints the field path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lock-config-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      'clients:\n  - clientId: x\n    public: true\n    grantTypes: [client_credentials]\n',
    );
    const failure = await run(process.execPath, ['src/cli/lock.ts', 'config', 'check', file]).then(
      () => assert.fail('expected a non-zero exit'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failure.code, 2);
    assert.match(failure.stderr, /clients\[0\]\.grantTypes: client_credentials needs a confidential client/);
    assert.match(
      failure.stderr,
      /clients\[0\]\.redirectUris: at least one is required for authorization_code|clients\[0\]\.grantTypes/,
    );
  });
});

describe('declarative configuration: apply', () => {
  let database: TestDatabase;
  const box = new SecretBox(Buffer.alloc(32, 7));
  const apply = (text: string) =>
    applyDeclarativeConfig(database.pool, box, parseDeclarative(text, 'lock.yaml', {}), 'http://127.0.0.1:1');

  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.drop());

  it('warns (and audits) once when a file gives a client lock_admin', async () => {
    await ensureAdminRole(database.pool);
    const file = `clients:
  - clientId: deployer
    clientSecret: a-deployer-secret-of-some-length
    grantTypes: [client_credentials]
    roles: [lock_admin]
`;
    const first = await apply(file);
    assert.equal(first.warnings.length, 1);
    assert.match(first.warnings[0]!, /client "deployer" now holds lock_admin/);
    assert.deepEqual(
      (await apply(file)).warnings,
      [],
      'a client that already holds it is not warned of again',
    );
    const { rows } = await database.pool.query(
      "SELECT actor, subject FROM audit_events WHERE type = 'admin.client.admin_role_granted'",
    );
    assert.deepEqual(rows, [{ actor: 'lock config apply', subject: 'deployer' }]);
    await apply('{}');
  });

  it('is idempotent: the same file twice changes nothing the second time', async () => {
    const first = await apply(tokenConfig);
    assert.ok(first.created.includes('client reporting-service'));
    assert.equal(first.updated.length + first.removed.length, 0);
    const second = await apply(tokenConfig);
    assert.deepEqual(
      { ...second, unchanged: 0 },
      { created: [], updated: [], removed: [], unchanged: 0, warnings: [] },
    );
    assert.equal(second.unchanged, first.created.length);
    const { rows } = await database.pool.query<{ client_secret: string }>(
      "SELECT client_secret FROM clients WHERE client_id = 'reporting-service'",
    );
    assert.ok(!rows[0]!.client_secret.includes(SECRET), 'the client secret is stored sealed');
  });

  it('removes what the file no longer declares and leaves admin-created rows alone', async () => {
    await database.pool.query(
      `INSERT INTO clients (client_id, client_secret, grant_types, managed_by) VALUES ('admin-made', NULL, '{client_credentials}', NULL)`,
    );
    const withoutSingle = tokenConfig.replace(/ {2}- clientId: single-api-service[\s\S]*$/, '');
    const summary = await apply(withoutSingle);
    assert.deepEqual(summary.removed, ['client single-api-service']);
    const { rows } = await database.pool.query<{ client_id: string }>(
      'SELECT client_id FROM clients ORDER BY client_id',
    );
    assert.deepEqual(
      rows.map((row) => row.client_id),
      ['admin-made', 'reporting-service'],
    );
  });

  it('updates a changed declaration and names unknown references by path', async () => {
    const summary = await apply(tokenConfig.replace('accessTokenTTL: 120', 'accessTokenTTL: 90'));
    assert.deepEqual(summary.updated, ['resource https://rs-api.example.com']);
    await assert.rejects(
      apply(tokenConfig.replace('roles: [app_admin]\n    roleClaim', 'roles: [app_root]\n    roleClaim')),
      (error: ConfigError) => {
        assert.deepEqual(error.problems, ['resources[2].roles[0]: unknown role "app_root"']);
        return true;
      },
    );
  });
});

describe('declarative configuration at start', () => {
  it('a client removed from the file can no longer get tokens after a restart', async () => {
    const lock = await startLock({ config: tokenConfig });
    const ok = await postForm(`${lock.issuer}/token`, { grant_type: 'client_credentials' }, [
      'single-api-service',
      SECRET,
    ]);
    assert.equal(ok.status, 200);
    await lock.close();
    const restarted = await startLock({
      database: lock.database,
      keysDir: lock.keysDir,
      config: tokenConfig.replace(/ {2}- clientId: single-api-service[\s\S]*$/, ''),
    });
    const refused = await postForm(`${restarted.issuer}/token`, { grant_type: 'client_credentials' }, [
      'single-api-service',
      SECRET,
    ]);
    assert.equal(refused.body.error, 'invalid_client');
    await restarted.close();
    await lock.database.drop();
  });
});
