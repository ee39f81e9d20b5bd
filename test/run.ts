// `npm test`: starts the peers the suite needs once (PostgreSQL for now), shares them with every
// test file through the environment, runs node's test runner, and stops the peers.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../src/store/embedded-postgres.ts';

const dataDir = await mkdtemp(join(tmpdir(), 'lock-test-pg-'));
process.stdout.write(`starting PostgreSQL for the suite in ${dataDir}\n`);
const database = await startEmbeddedPostgres({ dataDir });

const patterns = process.argv.slice(2);
const child = spawn(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    '--test-timeout=120000',
    ...(patterns.length > 0 ? patterns : ['test/**/*.test.ts']),
  ],
  { stdio: 'inherit', env: { ...process.env, LOCK_TEST_DATABASE_URL: database.url } },
);
const code: number = await new Promise((resolve) =>
  child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))),
);
await database.stop();
await rm(dataDir, { recursive: true, force: true });
process.exit(code);
