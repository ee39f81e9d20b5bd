import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { findFreePort } from '../../src/store/embedded-postgres.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startLock } from '../helpers/lock.ts';

interface Started {
  child: ChildProcess;
  ready: Promise<{ port: number }>;
  stdout: () => string;
  stderr: () => string;
}

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/**
 * `node src/main.ts` as a user runs it (or `command`, e.g. `npm start`), resolving when its log says
 * it is ready.
 */
function startProcess(
  env: Record<string, string>,
  [command, ...args]: [string, ...string[]] = [process.execPath, 'src/main.ts'],
): Started {
  const child = spawn(command, args, { env: { ...process.env, LOG_LEVEL: 'info', ...env } });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const ready = new Promise<{ port: number }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      stdout += `${line}\n`;
      const entry = line.startsWith('{') ? (JSON.parse(line) as { msg: string; port?: number }) : undefined;
      if (entry?.msg === 'Lock is ready') resolve({ port: entry.port! });
    });
    child.on('close', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  return { child, ready, stdout: () => stdout, stderr: () => stderr };
}

const stop = async (started: Started) => {
  if (started.child.exitCode !== null) return started.child.exitCode;
  started.child.kill('SIGTERM');
  const [code] = await once(started.child, 'exit');
  return code as number;
};

describe('start-up and shutdown', () => {
  it('two processes started at once on one empty database both come up; migrations and keys happen once', async () => {
    const database = await createTestDatabase({ migrated: false });
    const keysDir = await mkdtemp(join(tmpdir(), 'lock-keys-'));
    const env = { DATABASE_URL: database.url, LOCK_KEYS_DIR: keysDir, PORT: '0' };
    const [a, b] = [startProcess(env), startProcess(env)];
    const [readyA, readyB] = await Promise.all([a.ready, b.ready]);
    const jwksA = (await (await fetch(`http://127.0.0.1:${readyA.port}/jwks`)).json()) as { keys: unknown[] };
    const jwksB = (await (await fetch(`http://127.0.0.1:${readyB.port}/jwks`)).json()) as { keys: unknown[] };
    assert.deepEqual(jwksA, jwksB);
    const banner = `${a.stderr()}${b.stderr()}`;
    assert.match(banner, /created the admin account "admin" with the password:\s+\S{20,}\s/);
    assert.match(
      banner,
      /Sign in to the admin console at http:\/\/localhost:3000\/admin\n/,
      'the first start says where the console is, next to the password',
    );
    const migrations = await database.pool.query('SELECT name FROM lock_migrations');
    const names = migrations.rows.map((row) => row.name);
    assert.equal(new Set(names).size, names.length, 'each migration recorded once');
    const keys = await database.pool.query('SELECT alg, count(*)::int AS n FROM signing_keys GROUP BY alg');
    assert.deepEqual(
      keys.rows.map((row) => row.n),
      [1, 1, 1],
      'one key per algorithm, not one per process',
    );
    assert.equal(await stop(a), 0, 'SIGTERM shuts down cleanly');
    assert.equal(await stop(b), 0);
    await database.drop();
  });

  it('npm start passes a SIGTERM sent to npm on to Lock, which drains and stops', async () => {
    const database = await createTestDatabase({ migrated: false });
    const keysDir = await mkdtemp(join(tmpdir(), 'lock-keys-'));
    const started = startProcess({ DATABASE_URL: database.url, LOCK_KEYS_DIR: keysDir, PORT: '0' }, [
      'npm',
      'start',
      '--silent',
    ]);
    const { port } = await started.ready;
    // To npm's own pid, as a supervisor that runs `npm start` sends it.
    started.child.kill('SIGTERM');
    await once(started.child, 'exit');
    assert.match(started.stdout(), /"msg":"stopped"/, 'Lock itself was told to stop');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'nothing answers on its port');
    await database.drop();
  });

  it('says what to fix when the port is in use, the database is unreachable or a variable is bad', async () => {
    const lock = await startLock();
    after(async () => {
      await lock.close();
      await lock.database.drop();
    });
    const busyPort = new URL(lock.issuer).port;
    const portInUse = startProcess({
      DATABASE_URL: lock.database.url,
      LOCK_KEYS_DIR: lock.keysDir,
      PORT: busyPort,
      HOST: '127.0.0.1',
    });
    await assert.rejects(portInUse.ready, /port \d+ is in use/);
    assert.equal(portInUse.child.exitCode, 1);

    const deadPort = await findFreePort();
    const unreachable = startProcess({
      DATABASE_URL: `postgres://lock:pw@127.0.0.1:${deadPort}/lock`,
      LOCK_KEYS_DIR: lock.keysDir,
    });
    await assert.rejects(unreachable.ready, /cannot reach the database at 127\.0\.0\.1:\d+\/lock/);
    assert.doesNotMatch(unreachable.stderr(), /:pw@/, 'the password is never printed');

    const badEnv = startProcess({
      DATABASE_URL: lock.database.url,
      PORT: 'eighty',
      LOCK_ISSUER: 'ftp://x',
      LOCK_KEK: 'c2hvcnQ=',
    });
    await assert.rejects(badEnv.ready, /LOCK_ISSUER: must be an http\(s\) URL/);
    assert.match(badEnv.stderr(), /PORT: must be a number/);
    assert.match(badEnv.stderr(), /LOCK_KEK|the environment is invalid/);
    assert.equal(badEnv.child.exitCode, 2);
  });

  it('answers /healthz, /readyz and echoes a request id', async () => {
    const lock = await startLock();
    const health = await fetch(`${lock.issuer}/healthz`, { headers: { 'x-request-id': 'trace-123' } });
    assert.equal(health.status, 200);
    assert.equal(health.headers.get('x-request-id'), 'trace-123');
    const ready = await fetch(`${lock.issuer}/readyz`);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { database: true, keys: true } });
    const generated = (
      await fetch(`${lock.issuer}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } })
    ).headers.get('x-request-id');
    assert.match(generated!, /^[0-9a-f-]{36}$/);
    await lock.close();
    await lock.database.drop();
  });
});
