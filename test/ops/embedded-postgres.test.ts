import assert from 'node:assert/strict';
import { watch } from 'node:fs';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.ts';

describe('embedded PostgreSQL: first start', () => {
  const made: string[] = [];
  after(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true });
  });

  it('never writes the superuser password into the shared temporary directory', async () => {
    // The machine's shared TMPDIR, as other local users see it: every file created there is recorded.
    const shared = await mkdtemp(join(tmpdir(), 'lock-shared-tmp-'));
    const dataDir = await mkdtemp(join(tmpdir(), 'lock-embedded-'));
    made.push(shared, dataDir);
    await chmod(shared, 0o1777);
    const created: string[] = [];
    const watcher = watch(shared, (_event, name) => {
      if (name) created.push(name);
    });
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = shared;
    let database: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
    try {
      database = await startEmbeddedPostgres({ dataDir });
      assert.equal(process.env.TMPDIR, shared, 'TMPDIR is restored');
    } catch (error) {
      watcher.close();
      throw error;
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
    try {
      // Let inotify deliver what happened during initdb.
      await new Promise((resolve) => setTimeout(resolve, 200));
      watcher.close();
      assert.deepEqual(created, [], `files appeared in the shared TMPDIR: ${created.join(', ')}`);
      assert.deepEqual(
        (await readdir(dataDir)).filter((name) => name.startsWith('.initdb-')),
        [],
        'the private directory of initdb is removed',
      );
      // The password initdb was given is the one Lock connects with.
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      assert.equal((await client.query('SELECT current_user AS user')).rows[0].user, 'lock');
      await client.end();
    } finally {
      watcher.close();
      await database.stop();
    }
  });
});
