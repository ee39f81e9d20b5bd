import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { listAuditEvents, pruneAuditEvents } from '../../src/store/audit-events.ts';
import { adminApi } from '../admin/admin-api.ts';
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
  let served: RunningLock | undefined;
  let exported: string;

  before(async () => {
    source = await createTestDatabase({ migrated: false });
    target = await createTestDatabase({ migrated: false });
    sourceKeys = await mkdtemp(join(tmpdir(), 'lock-variables-'));
    targetKeys = await mkdtemp(join(tmpdir(), 'lock-variables-copy-'));
  });
  after(async () => {
    await copy?.close();
    await served?.close();
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

  it('the names outlive the audit log: with every audit event pruned, the export still says ${MY_LDAP_PW}', async () => {
    // As if LOCK_AUDIT_RETENTION_DAYS had passed since the apply: every event goes, its config.applied too.
    assert.ok((await pruneAuditEvents(source.pool, new Date(Date.now() + 60_000))) > 0);
    assert.deepEqual(await listAuditEvents(source.pool, { type: 'config.applied', limit: 1 }), []);

    const run = await lockCommand(['config', 'export'], {
      DATABASE_URL: source.url,
      LOCK_KEYS_DIR: sourceKeys,
    });
    assert.equal(run.code, 0, run.stderr);
    const document = parse(run.stdout);
    const ad = document.connectors.find((connector: { id: string }) => connector.id === 'corp-ad');
    assert.equal(ad.config.bindPassword, '${MY_LDAP_PW}');
    for (const client of document.clients) assert.equal(client.clientSecret, '${REPORTS_SECRET}');
    assert.doesNotMatch(run.stderr, /CONNECTOR_CORP_AD_BIND_PASSWORD|CLIENT_\w+_SECRET/);
  });

  it('an entity the file removed and an admin re-created through the API gets a generated name', async () => {
    served = await startLock({ database: source, keysDir: sourceKeys });
    const automation = { clientId: 'export-automation', secret: 'the automation client secret, long enough' };
    // The file no longer declares corp-ad or weekly-report (the apply removes them), and adds a
    // client for the admin API.
    const file = join(sourceKeys, 'smaller.yaml');
    await writeFile(
      file,
      `${appRolesAndApi()}
clients:
  - clientId: nightly-report
    clientSecret: \${REPORTS_SECRET}
    grantTypes: [client_credentials]
    roles: [app_readonly]
    resources: [${API}]
  - clientId: ${automation.clientId}
    clientSecret: \${AUTOMATION_SECRET}
    grantTypes: [client_credentials]
    roles: [lock_admin]
    resources: [${served.issuer}/admin]
`,
    );
    const applied = await lockCommand(['config', 'apply', file], {
      DATABASE_URL: source.url,
      LOCK_KEYS_DIR: sourceKeys,
      LOCK_ISSUER: served.issuer,
      ...ENVIRONMENT,
      AUTOMATION_SECRET: automation.secret,
    });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /removed connector corp-ad/);
    assert.match(applied.stdout, /removed client weekly-report/);

    // The running Lock hears of the new client through the change feed.
    let token: string | undefined;
    for (let attempt = 0; token === undefined; attempt++) {
      const answer = await postForm(
        `${served.issuer}/token`,
        { grant_type: 'client_credentials', resource: `${served.issuer}/admin` },
        [automation.clientId, automation.secret],
      );
      if (answer.status === 200) token = answer.body.access_token as string;
      else if (attempt > 50) assert.fail(JSON.stringify(answer.body));
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const api = adminApi(served.issuer, token);
    const connector = await api('POST', '/connectors?test=false', {
      body: {
        id: 'corp-ad',
        type: 'ldap',
        name: 'Corporate directory',
        config: {
          url: 'ldaps://dc.example.com',
          bindDN: 'CN=svc,DC=example,DC=com',
          bindPassword: 'an admin’s own bind password',
          activeDirectory: true,
          userSearch: { baseDN: 'DC=example,DC=com' },
        },
      },
    });
    assert.equal(connector.status, 201, connector.text);
    const client = await api('POST', '/clients', {
      body: { clientId: 'weekly-report', grantTypes: ['client_credentials'], resources: [API] },
    });
    assert.equal(client.status, 201, client.text);

    const run = await lockCommand(['config', 'export'], {
      DATABASE_URL: source.url,
      LOCK_KEYS_DIR: sourceKeys,
      LOCK_ISSUER: served.issuer,
    });
    assert.equal(run.code, 0, run.stderr);
    const document = parse(run.stdout);
    const ad = document.connectors.find((each: { id: string }) => each.id === 'corp-ad');
    assert.equal(
      ad.config.bindPassword,
      '${CONNECTOR_CORP_AD_BIND_PASSWORD}',
      'not the file’s ${MY_LDAP_PW}',
    );
    const secretOf = (clientId: string) =>
      document.clients.find((each: { clientId: string }) => each.clientId === clientId).clientSecret;
    assert.equal(secretOf('weekly-report'), '${CLIENT_WEEKLY_REPORT_SECRET}');
    assert.equal(
      secretOf('nightly-report'),
      '${REPORTS_SECRET}',
      'what the file still declares keeps its name',
    );
    assert.equal(secretOf(automation.clientId), '${AUTOMATION_SECRET}');
    assert.doesNotMatch(run.stderr, /MY_LDAP_PW/);
  });
});
