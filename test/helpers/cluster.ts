import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../../src/store/embedded-postgres.ts';
import type { TestDatabase } from './database.ts';

/**
 * `lock serve --workers 2` as a child of this test process, as an operator starts it: on
 * `database`, a free port and a fresh keys directory, with `config` as its declarative file.
 * `env` adds to (or overrides) the environment; the caller stops the child.
 */
export async function startWorkers(
  database: TestDatabase,
  options: { config: string; env?: Record<string, string>; stdio?: StdioOptions },
): Promise<{ child: ChildProcess; port: number; issuer: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'lock-workers-'));
  const configFile = join(dir, 'lock.yaml');
  await writeFile(configFile, options.config);
  const port = await findFreePort();
  const issuer = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['src/cli/lock.ts', 'serve', '--workers', '2'], {
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      LOCK_ISSUER: issuer,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOCK_KEYS_DIR: join(dir, 'keys'),
      LOCK_CONFIG: configFile,
      LOCK_BOOTSTRAP_ADMIN_PASSWORD: 'bootstrap-admin-password-1',
      ...options.env,
    },
    ...(options.stdio !== undefined && { stdio: options.stdio }),
  });
  return { child, port, issuer };
}
