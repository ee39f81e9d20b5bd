import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { z } from 'zod';
import {
  auditEventView,
  clientView,
  connectorView,
  groupSummaryView,
  listOf,
  resourceView,
  roleMappingView,
  roleView,
  signingKeyView,
  userView,
} from '../../src/admin/api/views.ts';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken } from '../admin/admin-api.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { commandEnv, lockCommand } from '../helpers/lock-command.ts';
import { loginConfig } from '../helpers/login-fixtures.ts';

/** Every listing command (with its options), the admin API path that lists the same, and the API's item schema. */
const LISTINGS: Array<[command: string, apiPath: string, item: z.ZodType, options?: string[]]> = [
  ['users', '/users?limit=200', userView],
  ['clients', '/clients', clientView],
  ['roles', '/roles', roleView],
  ['resources', '/resources', resourceView],
  ['apis', '/resources', resourceView],
  ['role-mappings', '/role-mappings', roleMappingView],
  ['connectors', '/connectors', connectorView],
  ['groups', '/groups', groupSummaryView],
  ['keys', '/keys', signingKeyView],
  ['audit', '/audit-events?type=admin.*', auditEventView, ['--type', 'admin.*']],
];

describe('lock … list --json: the admin API’s representation on stdout', () => {
  let lock: RunningLock;
  let api: AdminApi;
  const lockCli = (args: string[], stdin = '') =>
    lockCommand(args, { env: commandEnv(lock, { LOCK_ISSUER: lock.issuer }), stdin });

  before(async () => {
    lock = await startLock({ config: loginConfig, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    const role = await api('POST', '/roles', { body: { name: 'cli_reader', description: 'Reads' } });
    assert.equal(role.status, 201, role.text);
    const group = await api('POST', '/groups', { body: { name: 'auditors' } });
    assert.equal(group.status, 201, group.text);
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  for (const [command, apiPath, item, options = []] of LISTINGS)
    it(`lock ${command} list --json ${options.join(' ')} prints what GET ${apiPath} lists`, async () => {
      const listed = await lockCli([command, 'list', '--json', ...options]);
      assert.equal(listed.code, 0, listed.stderr);
      const page = listOf(item).parse(JSON.parse(listed.stdout));
      assert.ok(page.items.length > 0, `${command}: nothing listed`);
      const answer = await api('GET', apiPath);
      assert.equal(answer.status, 200, answer.text);
      // `you` is relative to the caller: the API's caller is the admin, the CLI is signed in as nobody.
      const callerFree = (items: unknown[]) =>
        (items as Record<string, unknown>[]).map(({ you: _you, ...rest }) => rest);
      assert.deepEqual(
        callerFree(page.items),
        callerFree(answer.body.items),
        `${command}: the same items, member for member`,
      );
      for (const each of page.items as Record<string, unknown>[])
        assert.notEqual(each.you, true, 'the CLI is no account');
    });

  it('the tables stay tables: one header line and a row per item', async () => {
    const roles = await lockCli(['roles', 'list']);
    assert.equal(roles.code, 0, roles.stderr);
    const [header, ...rows] = roles.stdout.trimEnd().split('\n');
    assert.match(header!, /^NAME\s+POSITION\s+DESCRIPTION\s+MANAGED BY$/);
    assert.ok(
      rows.some((row) => /^cli_reader\s+\d+\s+Reads\s*$/.test(row)),
      roles.stdout,
    );
    const mappings = await lockCli(['role-mappings', 'list']);
    assert.match(mappings.stdout, /^local\s+editors\s+app_readwrite\s+config$/m);
  });

  it('audit list takes the API’s filters and refuses a bad one naming it (exit 2)', async () => {
    const filtered = await lockCli(['audit', 'list', '--json', '--type', 'admin.role.*', '--limit', '1']);
    assert.equal(filtered.code, 0, filtered.stderr);
    const page = listOf(auditEventView).parse(JSON.parse(filtered.stdout));
    assert.deepEqual(
      page.items.map((event) => [event.type, event.subject]),
      [['admin.role.created', 'cli_reader']],
    );
    const bad = await lockCli(['audit', 'list', '--from', 'yesterday']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^lock: from: /m);
    assert.equal(bad.stdout, '');
  });

  it('lock users add refuses an invalid email as the API does: the problem names email, exit 2', async () => {
    const viaApi = await api('POST', '/users', { body: { username: 'erin', email: 'not-an-email' } });
    assert.equal(viaApi.status, 422);
    const apiProblem = viaApi.body.problems.find((problem: { path: string }) => problem.path === 'email');
    assert.ok(apiProblem, viaApi.text);

    const viaCli = await lockCli(
      ['users', 'add', 'erin', '--email', 'not-an-email'],
      'a sturdy passphrase for erin\n',
    );
    assert.equal(viaCli.code, 2, viaCli.stderr);
    assert.equal(
      viaCli.stderr.trim(),
      `lock: email: ${apiProblem.message}`,
      'the API’s problem, word for word',
    );
    const users = JSON.parse((await lockCli(['users', 'list', '--json'])).stdout) as {
      items: Array<{ username: string }>;
    };
    assert.ok(!users.items.some((user) => user.username === 'erin'), 'nothing was created');

    const fine = await lockCli(
      ['users', 'add', 'erin', '--email', 'erin@example.com'],
      'a sturdy passphrase for erin\n',
    );
    assert.equal(fine.code, 0, fine.stderr);
  });
});
