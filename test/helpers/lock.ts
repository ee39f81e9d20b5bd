import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLock, type Lock } from '../../src/app.ts';
import { loadEnv } from '../../src/config/env.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { findFreePort } from '../../src/store/embedded-postgres.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export interface RunningLock {
  issuer: string;
  lock: Lock;
  database: TestDatabase;
  keysDir: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Declarative YAML, written to a file and passed as LOCK_CONFIG. */
  config?: string;
  env?: Record<string, string>;
  /** Reuse a database (and keys dir) from an earlier Lock, e.g. to test a restart. */
  database?: TestDatabase;
  keysDir?: string;
  now?: () => Date;
  /** The issuer's host (default 127.0.0.1): `localhost` where a browser needs a domain (WebAuthn's RP ID). */
  hostname?: 'localhost' | '127.0.0.1';
  /** Receives the one-time bootstrap admin message (silenced by default). */
  announce?: (text: string) => void;
  /** Where the log goes (with LOG_LEVEL in `env`), e.g. to read what Lock logged. */
  logDestination?: { write(line: string): void };
}

/** A Lock in this process on a fresh database and port, as `npm start` would build it. */
export async function startLock(options: StartOptions = {}): Promise<RunningLock> {
  const database = options.database ?? (await createTestDatabase({ migrated: false }));
  const keysDir = options.keysDir ?? (await mkdtemp(join(tmpdir(), 'lock-test-keys-')));
  const port = await findFreePort();
  const issuer = `${options.env?.LOCK_TLS_CERT ? 'https' : 'http'}://${options.hostname ?? '127.0.0.1'}:${port}`;
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    LOCK_ISSUER: issuer,
    LOCK_KEYS_DIR: keysDir,
    LOG_LEVEL: 'silent',
    ...options.env,
  };
  if (options.config !== undefined) {
    const file = join(keysDir, 'lock.yaml');
    await writeFile(file, options.config);
    env.LOCK_CONFIG = file;
  }
  const lock = await createLock(loadEnv(env), createLogger(env.LOG_LEVEL!, options.logDestination), {
    ...(options.now && { now: options.now }),
    announce: options.announce ?? (() => {}),
  });
  await lock.listen(port, '127.0.0.1');
  return { issuer, lock, database, keysDir, close: () => lock.close() };
}

export async function postForm(url: string, form: Record<string, string>, basic?: [string, string]) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic)
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64')}`;
  const response = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(form) });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}
