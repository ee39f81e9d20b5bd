import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';

const run = promisify(execFile);

describe('least privilege in the database', () => {
  let database: TestDatabase;
  let lock: RunningLock;
  let runtimeUrl: string;
  const role = `lock_app_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');

  before(async () => {
    database = await createTestDatabase(); // migrated as the owner: lock_runtime exists
    await database.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' IN ROLE lock_runtime`);
    const url = new URL(database.url);
    url.username = role;
    url.password = password;
    runtimeUrl = url.toString();
    lock = await startLock({
      database,
      config: tokenConfig,
      env: { DATABASE_URL: runtimeUrl, LOCK_MIGRATE_DATABASE_URL: database.url },
    });
  });
  after(async () => {
    await lock.close();
    await database.drop();
    const admin = new pg.Client(database.url.replace(/\/[^/]+$/, '/postgres'));
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('Lock runs as a role with only lock_runtime grants', async () => {
    const token = await postForm(
      `${lock.issuer}/token`,
      { grant_type: 'client_credentials', resource: 'https://db-api.example.com' },
      ['reporting-service', SECRET],
    );
    assert.equal(token.status, 200);
  });

  it('leaves audit retention to the owner: `lock audit prune` deletes only what is past it', async () => {
    await database.pool.query(
      `INSERT INTO audit_events (type, outcome, at) VALUES ('test.old', 'success', now() - interval '400 days'),
                                                           ('test.recent', 'success', now() - interval '10 days')`,
    );
    const { stdout } = await run(process.execPath, ['src/cli/lock.ts', 'audit', 'prune', '--days', '365'], {
      env: {
        ...process.env,
        DATABASE_URL: runtimeUrl,
        LOCK_MIGRATE_DATABASE_URL: database.url,
        LOCK_KEYS_DIR: lock.keysDir,
      },
    });
    assert.match(stdout, /pruned 1 audit events older than 365 days/);
    const { rows } = await database.pool.query(
      "SELECT type FROM audit_events WHERE type LIKE 'test.%' ORDER BY type",
    );
    assert.deepEqual(
      rows.map((row) => row.type),
      ['test.recent'],
    );
  });

  it('cannot UPDATE or DELETE the audit log, only append to it', async () => {
    const client = new pg.Client(runtimeUrl);
    await client.connect();
    try {
      await client.query(`INSERT INTO audit_events (type, outcome) VALUES ('test.append', 'success')`);
      await assert.rejects(client.query(`UPDATE audit_events SET reason = 'rewritten'`), { code: '42501' });
      await assert.rejects(client.query('DELETE FROM audit_events'), { code: '42501' });
      await assert.rejects(client.query('DROP TABLE users'), { code: '42501' });
      await assert.rejects(client.query("INSERT INTO lock_migrations (name) VALUES ('9999_evil.sql')"), {
        code: '42501',
      });
    } finally {
      await client.end();
    }
  });
});
