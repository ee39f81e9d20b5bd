import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort } from '../../src/store/embedded-postgres.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tokenConfig } from '../helpers/fixtures.ts';

const REQUESTS = 200;

/**
 * `lock serve` (with `--workers 2` when asked) as an operator starts it, at the default log level:
 * its whole stdout is kept, and `exit` resolves once the process has ended and the pipe is drained.
 */
async function serve(workers: boolean) {
  const database = await createTestDatabase({ migrated: false });
  after(() => database.drop());
  const dir = await mkdtemp(join(tmpdir(), 'lock-log-flush-'));
  await writeFile(join(dir, 'lock.yaml'), tokenConfig);
  const port = await findFreePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: database.url,
    LOCK_ISSUER: `http://127.0.0.1:${port}`,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOCK_KEYS_DIR: join(dir, 'keys'),
    LOCK_CONFIG: join(dir, 'lock.yaml'),
  };
  delete env.LOG_LEVEL; // the default, as people run it
  const args = ['src/cli/lock.ts', 'serve', ...(workers ? ['--workers', '2'] : [])];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const closed = once(child, 'close');
  const url = `http://127.0.0.1:${port}`;
  for (let started = Date.now(); ; await sleep(50)) {
    assert.ok(child.exitCode === null, `lock serve exited: ${stderr}`);
    assert.ok(Date.now() - started < 60_000, `lock serve was not ready within 60 s: ${stderr}`);
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );
    // A cluster answers once its first worker serves; the second starts after it.
    if (ready && (!workers || stdout.includes('"all workers ready"'))) break;
  }
  return {
    child,
    url,
    async exit() {
      const [code] = await closed;
      return { code: code as number | null, stdout, stderr };
    },
  };
}

/** The access-log lines in `stdout`, by request id. */
function accessLines(stdout: string): Map<string, Record<string, unknown>> {
  const lines = new Map<string, Record<string, unknown>>();
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.msg === 'request') lines.set(entry.requestId as string, entry);
  }
  return lines;
}

for (const workers of [false, true])
  describe(`the access log of lock serve${workers ? ' --workers 2' : ''} on SIGTERM`, () => {
    it(`writes every one of ${REQUESTS} requests answered just before SIGTERM`, {
      timeout: 120_000,
    }, async () => {
      const lock = await serve(workers);
      // Distinct ids and paths, all at once: the last lines are logged a moment before SIGTERM.
      const ids = Array.from({ length: REQUESTS }, (_, index) => `flush-${index}`);
      const statuses = await Promise.all(
        ids.map(async (id) => {
          const response = await fetch(`${lock.url}/flush-check/${id}`, { headers: { 'x-request-id': id } });
          await response.arrayBuffer();
          return response.status;
        }),
      );
      lock.child.kill('SIGTERM');
      assert.deepEqual(new Set(statuses), new Set([404]));
      const { code, stdout, stderr } = await lock.exit();
      assert.equal(code, 0, stderr);

      const lines = accessLines(stdout);
      const missing = ids.filter((id) => !lines.has(id));
      assert.deepEqual(missing, [], `${missing.length} of ${REQUESTS} access-log lines missing`);
      for (const id of ids) {
        const line = lines.get(id)!;
        assert.equal(line.path, `/flush-check/${id}`);
        assert.equal(line.status, 404);
        assert.equal(line.level, 'info');
      }
      const last = stdout.trimEnd().split('\n').at(-1)!;
      assert.equal((JSON.parse(last) as { msg: string }).msg, 'stopped', 'the last line is the shutdown');
      if (workers) {
        const pids = new Set([...lines.values()].map((line) => line.pid));
        assert.equal(pids.size, 2, 'both workers served (and flushed) some of the requests');
      }
    });
  });
