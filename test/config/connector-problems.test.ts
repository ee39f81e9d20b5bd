import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseDeclarative } from '../../src/admin/declarative/file.ts';
import { ConfigError } from '../../src/config/schema-errors.ts';

const run = promisify(execFile);

/** An LDAP connector without a url, a userSearch or a name, and a SAML one with two problems. */
const BROKEN = `
connectors:
  - id: corp
    type: ldap
    config: { bindDN: "cn=svc,dc=example,dc=org", bindPassword: secret }
  - id: partner
    type: saml
    name: Partner
    config: { wantAssertionsSigned: false, spPrivateKey: not-a-key }
`;

const EXPECTED = [
  'connectors[0].name',
  'connectors[0].config.url',
  'connectors[0].config.userSearch',
  'connectors[1].config.idpMetadataUrl',
  'connectors[1].config.wantAssertionsSigned',
  'connectors[1].config.spPrivateKey',
];

describe('connector configs: every problem at once', () => {
  it('the declarative file lists each problem with its path', () => {
    const problems = (() => {
      try {
        parseDeclarative(BROKEN, 'lock.yaml', {});
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
      return assert.fail('expected the file to be refused');
    })();
    for (const path of EXPECTED)
      assert.ok(
        problems.some((problem) => problem.startsWith(`${path}: `)),
        `${path} missing from:\n${problems.join('\n')}`,
      );
  });

  for (const command of ['check', 'apply'])
    it(`\`lock config ${command}\` prints each of them and exits non-zero`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'lock-connector-problems-'));
      try {
        const file = join(dir, 'lock.yaml');
        await writeFile(file, BROKEN);
        const failure = await run(process.execPath, ['src/cli/lock.ts', 'config', command, file]).then(
          () => assert.fail('expected a non-zero exit'),
          (error: { code: number; stderr: string }) => error,
        );
        assert.notEqual(failure.code, 0);
        for (const path of EXPECTED)
          assert.ok(failure.stderr.includes(`${path}: `), `${path}:\n${failure.stderr}`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
});
