import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken } from '../admin/admin-api.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';

/** A file a person might write on a bad day: every entry has something wrong, some several things. */
const BAD_FILE = `
roles:
  - { name: "has space" }
  - { name: reader }
  - { name: reader }
resources:
  - { id: not-a-url, accessTokenTTL: 0 }
clients:
  - clientId: "has space"
    public: true
    clientSecret: "a-secret-for-a-public-client"
    grantTypes: [client_credentials]
connectors:
  - { id: "bad id!", type: ldap, name: Directory, config: { url: "http://dc.example.com" } }
users:
  - { username: alice, email: not-an-email, password: pw, passwordHash: "$argon2id$x" }
`;

/** Each problem the file has, as `path: message`, in any order. */
const EXPECTED_FILE_PROBLEMS = [
  /^roles\[0\]\.name: must be 1-63 letters/,
  /^roles\[2\]\.name: "reader" is already declared at roles\[1\]$/,
  /^resources\[0\]\.id: must be an absolute URL$/,
  /^resources\[0\]\.accessTokenTTL: must be at least 1$/,
  /^clients\[0\]\.clientId: must be 1-128 visible ASCII characters$/,
  /^clients\[0\]\.clientSecret: a public client has no secret$/,
  /^clients\[0\]\.grantTypes: client_credentials needs a confidential client$/,
  /^connectors\[0\]\.id: must be 1-63 letters/,
  /^connectors\[0\]\.config\.url: /,
  /^connectors\[0\]\.config\.bindDN: is required$/,
  /^users\[0\]\.email: must be a valid email$/,
  /^users\[0\]\.passwordHash: give password or passwordHash, not both$/,
];

function assertEveryProblem(lines: string[], expected: RegExp[]) {
  for (const pattern of expected)
    assert.ok(
      lines.some((line) => pattern.test(line)),
      `missing ${pattern}; reported:\n${lines.join('\n')}`,
    );
}

describe('validation reports every problem at once, each with its path', () => {
  let lock: RunningLock;
  let api: AdminApi;
  before(async () => {
    lock = await startLock({ env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('lock config apply and lock config check list all the problems of a declarative file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lock-bad-config-'));
    const file = join(dir, 'lock.yaml');
    await writeFile(file, BAD_FILE);
    for (const command of ['apply', 'check']) {
      const failure = await promisify(execFile)(
        process.execPath,
        ['src/cli/lock.ts', 'config', command, file],
        { env: { ...process.env, DATABASE_URL: lock.database.url, LOCK_KEYS_DIR: lock.keysDir } },
      ).then(
        () => assert.fail(`config ${command} accepted a bad file`),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(failure.code, 2, failure.stderr);
      const lines = failure.stderr.split('\n').map((line) => line.trim());
      assertEveryProblem(lines, EXPECTED_FILE_PROBLEMS);
    }
    const roles = await api('GET', '/roles');
    assert.ok(
      !roles.body.items.some((role: { name: string }) => role.name === 'reader'),
      'nothing of the file was applied',
    );
  });

  it('the admin API answers 422 with problems: [...] naming every bad field of a client', async () => {
    const response = await api('POST', '/clients', {
      body: {
        clientId: 'has space',
        public: true,
        grantTypes: ['client_credentials', 'implicit'],
        redirectUris: ['not a url'],
        requireMfa: 'yes',
      },
    });
    assert.equal(response.status, 422, response.text);
    const lines = (response.body.problems as Array<{ path: string; message: string }>).map(
      ({ path, message }) => `${path}: ${message}`,
    );
    assertEveryProblem(lines, [
      /^clientId: must be 1-128 visible ASCII characters$/,
      /^grantTypes\[1\]: must be one of /,
      /^grantTypes: client_credentials needs a confidential client$/,
      /^redirectUris\[0\]: must be an absolute URL$/,
      /^requireMfa: must be a boolean$/,
    ]);
  });

  it('the admin API names the connector fields and its config fields in one answer', async () => {
    const response = await api('POST', '/connectors?test=false', {
      body: { id: 'bad id!', type: 'ldap', name: '', config: { url: 'http://dc.example.com' } },
    });
    assert.equal(response.status, 422, response.text);
    const lines = (response.body.problems as Array<{ path: string; message: string }>).map(
      ({ path, message }) => `${path}: ${message}`,
    );
    assertEveryProblem(lines, [
      /^id: must be 1-63 letters/,
      /^name: must be at least 1 character long$/,
      /^config\.url: /,
      /^config\.bindDN: is required$/,
    ]);
  });
});
