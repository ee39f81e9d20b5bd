import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';

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
