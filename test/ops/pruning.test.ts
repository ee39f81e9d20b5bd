import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listAuditEvents } from '../../src/store/audit-events.ts';
import { PRUNE_LOCK_KEY, pruneExpiredRows } from '../../src/store/pruning.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { loginConfig } from '../helpers/login-fixtures.ts';
import { postOnce } from '../helpers/sign-in-attempts.ts';

const HOUR = 3_600_000;

describe('pruning expired rows', () => {
  let database: TestDatabase;
  const now = new Date();
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const ahead = (ms: number) => new Date(now.getTime() + ms);
  const settings = {
    now,
    rateLimitWindowSeconds: 60,
    auditRetentionDays: 365,
  };

  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.drop());

  /** One expired and one live row in every table that anonymous requests grow. */
  async function seed() {
    const q = (text: string, values: unknown[]) => database.pool.query(text, values);
    const { rows } = await q(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [
      `user-${Math.random()}`,
    ]);
    const userId = rows[0].id;
    for (const [id, expiresAt] of [
      ['expired', ago(1000)],
      ['live', ahead(HOUR)],
    ] as const) {
      await q(`INSERT INTO oidc_payloads (model, id, payload, expires_at) VALUES ('Session', $1, '{}', $2)`, [
        `${id}-${Math.random()}`,
        expiresAt,
      ]);
      await q(
        `INSERT INTO pending_second_factors (interaction_uid, user_id, sub, connector, username, stage, expires_at)
         VALUES ($1, $2, 'sub', 'local', 'someone', 'verify', $3)`,
        [`${id}-${Math.random()}`, userId, expiresAt],
      );
      await q(
        `INSERT INTO saml_requests (id, connector, interaction_uid, relay_state, browser_binding, expires_at)
         VALUES ($1, 'idp', 'uid', 'relay', '\\x00', $2)`,
        [`${id}-${Math.random()}`, expiresAt],
      );
      await q(`INSERT INTO saml_assertion_ids (issuer, assertion_id, expires_at) VALUES ('idp', $1, $2)`, [
        `${id}-${Math.random()}`,
        expiresAt,
      ]);
      await q(
        `INSERT INTO saml_idp_initiated_logins (browser_binding, connector, client_id, outcome, expires_at)
         VALUES ($1, 'idp', 'web', '{}', $2)`,
        [Buffer.from(`${id}-${Math.random()}`), expiresAt],
      );
      await q(
        `INSERT INTO upstream_requests (state_hash, connector, interaction_uid, browser_binding, nonce, code_verifier, expires_at)
         VALUES ($1, 'upstream', 'uid', '\\x00', 'nonce', 'verifier', $2)`,
        [Buffer.from(`${id}-${Math.random()}`), expiresAt],
      );
      await q(
        `INSERT INTO upstream_logins (id, connector, interaction_uid, browser_binding, outcome, expires_at)
         VALUES ($1, 'upstream', 'uid', '\\x00', '{}', $2)`,
        [`${id}-${Math.random()}`, expiresAt],
      );
      await q(
        `INSERT INTO device_code_polls (code_hash, polled_at, interval_seconds, too_fast, expires_at)
         VALUES ($1, $2, 5, false, $2)`,
        [`${id}-${Math.random()}`, expiresAt],
      );
    }
    // A name someone typed once, a day ago; one typed an hour ago; one locked until later.
    await q(
      `INSERT INTO login_failures (key, threshold, failures, first_failure_at, last_failure_at, locked_until)
       VALUES ($1, 30, 1, $2, $2, NULL), ($3, 30, 1, $4, $4, NULL), ($5, 30, 40, $2, $2, $6)`,
      [
        `account:typo-${Math.random()}`,
        ago(24 * HOUR),
        `account:recent-${Math.random()}`,
        ago(HOUR),
        `account:locked-${Math.random()}`,
        ahead(HOUR),
      ],
    );
    await q(`INSERT INTO rate_limit_counters (key, window_start, count) VALUES ($1, $2, 5), ($3, $4, 5)`, [
      `login:old-${Math.random()}`,
      ago(HOUR),
      `login:now-${Math.random()}`,
      ago(10_000),
    ]);
    for (const [id, expiresAt] of [
      ['expired', ago(1000)],
      ['live', ahead(HOUR)],
    ] as const)
      await q(
        `INSERT INTO account_sessions (id_hash, sub, session_uid, auth_time, created_at, expires_at)
         VALUES ($1, 'sub', 'uid', $2, $2, $3)`,
        [`${id}-${Math.random()}`, ago(HOUR), expiresAt],
      );
    await q(
      `INSERT INTO session_activity (session_uid, account_id, first_seen_at, last_seen_at)
       VALUES ($1, 'sub', $2, $2), ($3, 'sub', $4, $4)`,
      [`old-${Math.random()}`, ago(15 * 24 * HOUR), `new-${Math.random()}`, ago(HOUR)],
    );
    await q(
      `INSERT INTO audit_event_repeats (repeat_key, attempts, last_at) VALUES ($1, 3, $2), ($3, 3, $4)`,
      [`old-${Math.random()}`, ago(400 * 24 * HOUR), `new-${Math.random()}`, ago(HOUR)],
    );
  }

  const counts = async () => {
    const tables = [
      ['oidc_payloads', 'expires_at <= $1'],
      ['pending_second_factors', 'expires_at <= $1'],
      ['saml_requests', 'expires_at <= $1'],
      ['saml_assertion_ids', 'expires_at <= $1'],
      ['saml_idp_initiated_logins', 'expires_at <= $1'],
      ['upstream_requests', 'expires_at <= $1'],
      ['upstream_logins', 'expires_at <= $1'],
      ['device_code_polls', 'expires_at <= $1'],
      ['account_sessions', 'expires_at <= $1'],
      ['session_activity', `last_seen_at < $1::timestamptz - interval '14 days'`],
      ['login_failures', `last_failure_at < $1::timestamptz - interval '12 hours' AND locked_until IS NULL`],
      ['rate_limit_counters', `window_start < $1::timestamptz - interval '2 minutes'`],
      ['audit_event_repeats', `last_at < $1::timestamptz - interval '365 days'`],
    ];
    const result: Record<string, { expired: number; total: number }> = {};
    for (const [table, expired] of tables) {
      const { rows } = await database.pool.query(
        `SELECT count(*) FILTER (WHERE ${expired})::int AS expired, count(*)::int AS total FROM ${table}`,
        [now],
      );
      result[table!] = rows[0];
    }
    return result;
  };

  it('a run deletes the rows past their expiry from every table and keeps the others', async () => {
    await seed();
    const before = await counts();
    for (const [table, { expired }] of Object.entries(before))
      assert.ok(expired >= 1, `${table} has an expired row to prune`);
    const summary = await pruneExpiredRows(database.pool, settings);
    assert.ok(summary, 'the run took the lock');
    const afterRun = await counts();
    for (const [table, { expired, total }] of Object.entries(afterRun)) {
      assert.equal(expired, 0, `${table}: expired rows are gone`);
      assert.equal(total, before[table]!.total - before[table]!.expired, `${table}: live rows are kept`);
      assert.equal(summary[table as keyof typeof summary], before[table]!.expired, `${table}: summary`);
    }
    const locked = await database.pool.query(
      `SELECT count(*)::int AS n FROM login_failures WHERE locked_until > $1`,
      [now],
    );
    assert.equal(locked.rows[0].n, 1, 'a counter that still locks an account stays');
  });

  it('deletes a bounded batch per table per run, and the next runs finish the job', async () => {
    for (let i = 0; i < 5; i++)
      await database.pool.query(
        `INSERT INTO oidc_payloads (model, id, payload, expires_at) VALUES ('Interaction', $1, '{}', $2)`,
        [`batch-${i}`, ago(1000)],
      );
    const first = await pruneExpiredRows(database.pool, { ...settings, batchSize: 2 });
    assert.equal(first?.oidc_payloads, 2);
    await pruneExpiredRows(database.pool, { ...settings, batchSize: 2 });
    await pruneExpiredRows(database.pool, { ...settings, batchSize: 2 });
    const { rows } = await database.pool.query(
      `SELECT count(*)::int AS n FROM oidc_payloads WHERE id LIKE 'batch-%'`,
    );
    assert.equal(rows[0].n, 0);
  });

  it('runs in one process at a time: a run skips while another holds the lock', async () => {
    await seed();
    // Another process in the middle of its run: it holds the lock until its transaction ends.
    const other = await database.pool.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock($1)', [PRUNE_LOCK_KEY]);
      assert.equal(await pruneExpiredRows(database.pool, settings), undefined, 'skipped');
      for (const [table, { expired }] of Object.entries(await counts()))
        assert.ok(expired >= 1, `${table}: nothing pruned by the skipped run`);
      await other.query('COMMIT');
    } finally {
      other.release();
    }
    const runs = await Promise.all(
      Array.from({ length: 6 }, () => pruneExpiredRows(database.pool, settings)),
    );
    assert.ok(
      runs.some((run) => run !== undefined),
      'once the lock is free, a run prunes',
    );
    for (const [table, { expired }] of Object.entries(await counts())) assert.equal(expired, 0, table);
  });
});

describe('failed sign-ins in the audit log', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({ config: loginConfig, env: { LOCK_RATE_LIMIT_LOGIN: '10000' } });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('a burst of 100 failed logins for one name from one address writes a few rows that count all 100', async () => {
    // Waves of 25 at once, each post on a sign-in of its own: under the per-sign-in attempt cap and
    // the bound on concurrent password verifies, so every one of them is answered and audited.
    const outcomes: string[] = [];
    for (let wave = 0; wave < 4; wave++)
      outcomes.push(
        ...(
          await Promise.all(
            Array.from({ length: 25 }, (_, n) =>
              postOnce(lock.issuer, 'mallory-target', `guess ${wave}-${n}`),
            ),
          )
        ).map((result) => result.outcome),
      );
    assert.deepEqual(new Set(outcomes), new Set(['refused']), 'every attempt was refused');

    const rows = await lock.database.pool.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE subject = 'mallory-target' AND outcome = 'failure'`,
    );
    assert.ok(rows.rows[0].n <= 4, `${rows.rows[0].n} audit rows for 100 attempts`);
    const events = (await listAuditEvents(lock.database.pool, { limit: 100 })).filter(
      (event) => event.subject === 'mallory-target',
    );
    const total = events.reduce((sum, event) => sum + Number(event.details.count ?? 1), 0);
    assert.equal(total, 100, 'the count of attempts is kept');
    for (const event of events) {
      assert.equal(event.ip, '127.0.0.1');
      assert.ok(event.type === 'login.password' || event.type === 'login.locked_out', event.type);
    }
  });
});
