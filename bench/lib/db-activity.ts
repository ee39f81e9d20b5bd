import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

/**
 * PostgreSQL publishes a backend's transaction counts when it goes idle, but at most once a second;
 * what a backend did within a second of its last report waits for its idle timer, up to 10 s
 * (PGSTAT_IDLE_INTERVAL). Reading 11 s after the last activity sees all of it.
 */
export const STATS_SETTLE_MS = 11_000;

export interface ActivityReading {
  /** Committed plus rolled back transactions of the database so far. */
  transactions: number;
  /** Statements run since the last reset (pg_stat_statements), when tracked. */
  statements: number | undefined;
  at: number;
}

export interface StatementCount {
  query: string;
  calls: number;
  /** Mean execution time in ms (pg_stat_statements; planning is not tracked by default). */
  meanMs: number;
}

/** Reads one database's activity from another connection (to a different database, so it counts nothing itself). */
export class DatabaseActivity {
  readonly #client: pg.Client;
  readonly #database: string;
  readonly #statementsTracked: boolean;

  constructor(client: pg.Client, database: string, statementsTracked: boolean) {
    this.#client = client;
    this.#database = database;
    this.#statementsTracked = statementsTracked;
  }

  async read(): Promise<ActivityReading> {
    await this.#client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await this.#client.query<{ transactions: string }>(
      `SELECT pg_stat_get_db_xact_commit(oid) + pg_stat_get_db_xact_rollback(oid) AS transactions
         FROM pg_database WHERE datname = $1`,
      [this.#database],
    );
    const statements = this.#statementsTracked
      ? (await this.statementCounts()).reduce((sum, { calls }) => sum + calls, 0)
      : undefined;
    return { transactions: Number(rows[0]?.transactions ?? Number.NaN), statements, at: performance.now() };
  }

  async resetStatements(): Promise<void> {
    if (this.#statementsTracked) await this.#client.query('SELECT pg_stat_statements_reset()');
  }

  /** The statements run since the last reset, most frequent first; parameters are placeholders. */
  async statementCounts(): Promise<StatementCount[]> {
    if (!this.#statementsTracked) return [];
    const { rows } = await this.#client.query<{ query: string; calls: string; mean_exec_time: number }>(
      `SELECT query, calls, mean_exec_time FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)
        ORDER BY calls DESC`,
      [this.#database],
    );
    return rows.map((row) => ({
      query: row.query.replace(/\s+/g, ' ').trim(),
      calls: Number(row.calls),
      meanMs: row.mean_exec_time,
    }));
  }
}

export interface IdleRate {
  transactionsPerSecond: number;
  statementsPerSecond: number | undefined;
  windowS: number;
}

/** About as long as the counting window (the requests, then STATS_SETTLE_MS), as the noise is scaled to it. */
const IDLE_WINDOW_MS = 15_000;

/**
 * Measures what the database does while nobody calls the server (its own timers, autovacuum), to
 * subtract it later. Starts reading once earlier activity has settled and runs in the background,
 * so it can overlap phases that do not touch this database.
 */
export function startIdleBaseline(activity: DatabaseActivity): { finish(): Promise<IdleRate> } {
  const start = sleep(STATS_SETTLE_MS).then(async () => {
    await activity.resetStatements();
    return activity.read();
  });
  start.catch(() => {});
  return {
    async finish() {
      const first = await start;
      const remaining = first.at + IDLE_WINDOW_MS - performance.now();
      if (remaining > 0) await sleep(remaining);
      const last = await activity.read();
      const windowS = (last.at - first.at) / 1000;
      return {
        transactionsPerSecond: (last.transactions - first.transactions) / windowS,
        statementsPerSecond: last.statements === undefined ? undefined : last.statements / windowS,
        windowS,
      };
    },
  };
}

/** Work seen in the counting window, and per request once the idle noise is taken out. */
export interface WorkCount {
  observed: number;
  /** What an idle window of the same length saw, scaled. */
  idleNoise: number;
  /** (observed − idle noise) ÷ requests, never below 0: idle activity comes in bursts. */
  perRequest: number;
  /** observed ÷ requests: everything in the window blamed on the requests. */
  upperBound: number;
}

export interface DbWorkPerRequest {
  requests: number;
  transactions: WorkCount;
  statements: (WorkCount & { top: StatementCount[] }) | undefined;
  windowS: number;
}

/** Runs `send` (which makes `requests` requests) and answers the database work per request beyond idle noise. */
export async function measureDbWorkPerRequest(
  activity: DatabaseActivity,
  idle: IdleRate,
  requests: number,
  send: () => Promise<void>,
): Promise<DbWorkPerRequest> {
  await activity.resetStatements();
  const before = await activity.read();
  await send();
  await sleep(STATS_SETTLE_MS);
  const after = await activity.read();
  const windowS = (after.at - before.at) / 1000;
  const count = (observed: number, idlePerSecond: number): WorkCount => {
    const idleNoise = idlePerSecond * windowS;
    return {
      observed,
      idleNoise,
      perRequest: Math.max(0, observed - idleNoise) / requests,
      upperBound: observed / requests,
    };
  };
  return {
    requests,
    transactions: count(after.transactions - before.transactions, idle.transactionsPerSecond),
    statements:
      after.statements === undefined || idle.statementsPerSecond === undefined
        ? undefined
        : {
            ...count(after.statements, idle.statementsPerSecond),
            top: (await activity.statementCounts()).slice(0, 8),
          },
    windowS,
  };
}
