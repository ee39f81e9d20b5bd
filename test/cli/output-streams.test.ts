import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `lock …` as a person runs it, with LOG_LEVEL from their environment and stdin piped. */
function lock(args: string[], env: Record<string, string>, stdin = ''): Promise<Run> {
  const { DATABASE_URL: _, ...inherited } = process.env;
  const child = spawn(process.execPath, ['src/cli/lock.ts', ...args], { env: { ...inherited, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const noLogLines = (run: Run) =>
  assert.equal(
    run.stdout.split('\n').filter((line) => line.includes('"level"')).length,
    0,
    `log lines on stdout:\n${run.stdout}`,
  );

describe('the CLI: logs on stderr, the product on stdout, whatever LOG_LEVEL says', () => {
  let dataDir: string;
  let keysDir: string;
  let env: Record<string, string>;
  before(async () => {
    // The embedded PostgreSQL of `npm start`: its start-up is what logs at info and debug.
    dataDir = await mkdtemp(join(tmpdir(), 'lock-cli-streams-data-'));
    keysDir = await mkdtemp(join(tmpdir(), 'lock-cli-streams-keys-'));
    env = { LOCK_DATA_DIR: dataDir, LOCK_KEYS_DIR: keysDir };
    const rotated = await lock(['keys', 'rotate'], { ...env, LOG_LEVEL: 'info' });
    assert.equal(rotated.code, 0, rotated.stderr);
    noLogLines(rotated);
    assert.match(rotated.stderr, /"msg":"starting embedded PostgreSQL"/, 'the log is there, on stderr');
    const added = await lock(
      ['users', 'add', 'bob'],
      { ...env, LOG_LEVEL: 'info' },
      'bob keeps a long passphrase\n',
    );
    assert.equal(added.code, 0, added.stderr);
    noLogLines(added);
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(keysDir, { recursive: true, force: true });
  });

  it('lock keys export --format jwks > jwks.json: stdout is the JWKS', async () => {
    for (const level of ['info', 'debug']) {
      const run = await lock(['keys', 'export', '--format', 'jwks'], { ...env, LOG_LEVEL: level });
      assert.equal(run.code, 0, run.stderr);
      const jwks = JSON.parse(run.stdout) as { keys: Array<{ kid: string; d?: string }> };
      assert.ok(jwks.keys.length >= 3, 'the published keys');
      assert.ok(
        jwks.keys.every((key) => key.kid && key.d === undefined),
        'public keys only',
      );
      assert.match(run.stderr, /"level":"(info|debug)"/);
    }
  });

  it('lock config export: stdout is the YAML file', async () => {
    const run = await lock(['config', 'export'], { ...env, LOG_LEVEL: 'debug' });
    assert.equal(run.code, 0, run.stderr);
    noLogLines(run);
    const file = parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(
      (file.users as Array<{ username: string }>).map((user) => user.username),
      ['bob'],
      run.stdout,
    );
  });

  it('lock users list / clients list: stdout is the table', async () => {
    const users = await lock(['users', 'list'], { ...env, LOG_LEVEL: 'debug' });
    assert.equal(users.code, 0, users.stderr);
    const [header, ...rows] = users.stdout.trimEnd().split('\n');
    assert.match(header!, /^USERNAME\s+STATUS/);
    assert.ok(rows.length >= 1);
    for (const row of rows) assert.match(row, /^\S+\s+(active|disabled)\b/, `not a table row: ${row}`);
    assert.ok(rows.some((row) => row.startsWith('bob ')));
    const clients = await lock(['clients', 'list'], { ...env, LOG_LEVEL: 'debug' });
    assert.equal(clients.code, 0, clients.stderr);
    const [clientHeader, ...clientRows] = clients.stdout.trimEnd().split('\n');
    assert.match(clientHeader!, /^CLIENT ID\s+TYPE/);
    for (const row of clientRows)
      assert.match(row, /^\S+\s+(public|confidential)\b/, `not a table row: ${row}`);
  });
});
