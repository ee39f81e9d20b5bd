import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { API, appRolesAndApi } from '../helpers/login-fixtures.ts';

/** The operator's environment: the variable names are theirs, not Lock's. */
const ENVIRONMENT = {
  MY_LDAP_PW: 'the directory service password',
  REPORTS_SECRET: 'the reporting job secret, long enough',
};

// Two clients share one variable; the LDAP connector keeps its bind password in MY_LDAP_PW.
const FILE = `
${appRolesAndApi()}
clients:
  - clientId: nightly-report
    clientSecret: \${REPORTS_SECRET}
    grantTypes: [client_credentials]
    roles: [app_readonly]
    resources: [${API}]
  - clientId: weekly-report
    clientSecret: \${REPORTS_SECRET}
    grantTypes: [client_credentials]
    resources: [${API}]
connectors:
  - id: corp-ad
    type: ldap
    name: Corporate directory
    config:
      url: ldaps://dc.example.com
      bindDN: CN=svc,DC=example,DC=com
      bindPassword: \${MY_LDAP_PW}
      activeDirectory: true
      userSearch: { baseDN: "DC=example,DC=com" }
`;

async function lockCommand(args: string[], env: Record<string, string>) {
  return promisify(execFile)(process.execPath, ['src/cli/lock.ts', ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

describe('lock config export keeps the variable names the file was applied with', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  let sourceKeys: string;
  let targetKeys: string;
  let copy: RunningLock | undefined;
  let exported: string;

  before(async () => {
    source = await createTestDatabase({ migrated: false });
    target = await createTestDatabase({ migrated: false });
    sourceKeys = await mkdtemp(join(tmpdir(), 'lock-variables-'));
    targetKeys = await mkdtemp(join(tmpdir(), 'lock-variables-copy-'));
  });
  after(async () => {
    await copy?.close();
    await source.drop();
    await target.drop();
  });

  it('apply a file with ${MY_LDAP_PW}, export: the export says ${MY_LDAP_PW}', async () => {
    const file = join(sourceKeys, 'lock.yaml');
    await writeFile(file, FILE);
    const applied = await lockCommand(['config', 'apply', file], {
      DATABASE_URL: source.url,
      LOCK_KEYS_DIR: sourceKeys,
      ...ENVIRONMENT,
    });
    assert.equal(applied.code, 0, applied.stderr);

    const run = await lockCommand(['config', 'export'], {
      DATABASE_URL: source.url,
      LOCK_KEYS_DIR: sourceKeys,
    });
    assert.equal(run.code, 0, run.stderr);
    exported = run.stdout;
    for (const secret of Object.values(ENVIRONMENT))
      assert.ok(!exported.includes(secret), 'no secret in clear');
    const document = parse(exported);
    const ad = document.connectors.find((connector: { id: string }) => connector.id === 'corp-ad');
    assert.equal(ad.config.bindPassword, '${MY_LDAP_PW}');
    const secretOf = (clientId: string) =>
      document.clients.find((client: { clientId: string }) => client.clientId === clientId).clientSecret;
    assert.equal(secretOf('nightly-report'), '${REPORTS_SECRET}');
    assert.equal(secretOf('weekly-report'), '${REPORTS_SECRET}', 'one variable, as in the file');
    assert.match(run.stderr, /^ {2}MY_LDAP_PW {2}bindPassword of connector corp-ad$/m);
    assert.equal(run.stderr.match(/^ {2}REPORTS_SECRET /gm)?.length, 1, 'listed once');
    assert.doesNotMatch(run.stderr, /CONNECTOR_CORP_AD_BIND_PASSWORD|CLIENT_NIGHTLY_REPORT_SECRET/);
  });

  it('the export applies back with the same environment, and the secrets are the environment’s', async () => {
    const file = join(targetKeys, 'exported.yaml');
    await writeFile(file, exported);
    const applied = await lockCommand(['config', 'apply', file], {
      DATABASE_URL: target.url,
      LOCK_KEYS_DIR: targetKeys,
      ...ENVIRONMENT,
    });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /created connector corp-ad/);

    copy = await startLock({ database: target, keysDir: targetKeys });
    for (const clientId of ['nightly-report', 'weekly-report']) {
      const token = await postForm(
        `${copy.issuer}/token`,
        { grant_type: 'client_credentials', resource: API },
        [clientId, ENVIRONMENT.REPORTS_SECRET],
      );
      assert.equal(token.status, 200, `${clientId}: ${JSON.stringify(token.body)}`);
    }

    const again = await lockCommand(['config', 'export'], {
      DATABASE_URL: target.url,
      LOCK_KEYS_DIR: targetKeys,
    });
    // (The copy's start created its admin account: compare what the file declared.)
    const declared = (text: string) => {
      const { clients, connectors } = parse(text);
      return { clients, connectors };
    };
    assert.deepEqual(declared(again.stdout), declared(exported), 'and exports the same secrets the same way');
  });
});
