import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, appRolesAndApi, signInToWebApp, webAppClient } from '../helpers/login-fixtures.ts';

/** A file that maps a group of Lock's own accounts to a role without declaring the connector `local`. */
const fileWith = (connectors: string, mappedConnector = 'local') => `
${appRolesAndApi()}
clients:
${webAppClient()}
${connectors}
roleMappings:
  - { connector: ${mappedConnector}, group: editors, roles: [app_readwrite] }
users:
  - { username: alice, password: "${ALICE_PASSWORD}", groups: [editors] }
`;

const LDAP_ONLY = `connectors:
  - id: corp-ad
    type: ldap
    name: Corporate directory
    config:
      url: ldaps://dc.example.com
      bindDN: CN=svc,DC=example,DC=com
      bindPassword: a-bind-password
      userSearch: { baseDN: "DC=example,DC=com" }`;

describe('connector: local in a role mapping needs no declaration (Lock’s own accounts are always there)', () => {
  const started: RunningLock[] = [];
  after(async () => {
    for (const lock of started) {
      await lock.close();
      await lock.database.drop();
    }
  });

  for (const [label, connectors] of [
    ['no connectors section', ''],
    ['only an LDAP connector declared', LDAP_ONLY],
  ] as const)
    it(`${label}: the file applies and the mapping gives the role`, async () => {
      const lock = await startLock({ config: fileWith(connectors) });
      started.push(lock);
      const { tokens, html } = await signInToWebApp(lock.issuer, 'alice', ALICE_PASSWORD);
      assert.ok(tokens, html);
      assert.deepEqual(decodeJwt(tokens.access_token).roles, ['app_readwrite'], 'editors → app_readwrite');
    });

  it('a misspelt connector is refused naming the field and saying what to write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lock-local-mapping-'));
    const file = join(dir, 'lock.yaml');
    await writeFile(file, fileWith('', 'locl'));
    const lock = await startLock();
    started.push(lock);
    const failure = await promisify(execFile)(
      process.execPath,
      ['src/cli/lock.ts', 'config', 'apply', file],
      {
        env: {
          ...process.env,
          DATABASE_URL: lock.database.url,
          LOCK_KEYS_DIR: lock.keysDir,
          LOG_LEVEL: 'warn',
        },
      },
    ).then(
      () => assert.fail('expected the apply to fail'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failure.code, 2);
    assert.match(
      failure.stderr,
      /roleMappings\[0\]\.connector: unknown connector "locl": declare it under connectors, or name local \(Lock’s own accounts, there without declaring\) or \* \(any connector\)/,
    );
  });
});
