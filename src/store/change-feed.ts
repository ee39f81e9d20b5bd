import pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import type { Queryable } from './pool.ts';

export type ChangeTopic = 'catalog' | 'keys';
export const CHANGE_CHANNEL = 'lock_changes';

/** Tells every Lock process on the database (at commit, when inside a transaction) that `topic` changed. */
export async function notifyChange(db: Queryable, topic: ChangeTopic): Promise<void> {
  await db.query(
    `WITH bumped AS (UPDATE change_versions SET version = version + 1 WHERE topic = $2 RETURNING topic)
     SELECT pg_notify($1, $2) FROM bumped`,
    [CHANGE_CHANNEL, topic],
  );
}

async function readChangeVersions(db: Queryable): Promise<Map<string, string>> {
  const { rows } = await db.query<{ topic: string; version: string }>(
    'SELECT topic, version FROM change_versions',
  );
  return new Map(rows.map((row) => [row.topic, row.version]));
}

/**
 * Tells this process when another one (or itself) changed shared state: LISTEN on `lock_changes`,
 * reconnecting after a database restart, with a poll of the change versions as a fallback for
 * anything missed meanwhile (it reloads only when a version moved).
 */
export class ChangeFeed {
  readonly #url: string;
  readonly #log: Logger;
  readonly #onChange: (topic: ChangeTopic | 'all') => void;
  #client: pg.Client | undefined;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;

  #seen: Map<string, string> | undefined;

  constructor(
    url: string,
    log: Logger,
    onChange: (topic: ChangeTopic | 'all') => void,
    options: { pool: Queryable; pollMs?: number },
  ) {
    this.#url = url;
    this.#log = log;
    this.#onChange = onChange;
    this.#poll = setInterval(() => {
      this.#pollVersions(options.pool).catch(() => {});
    }, options.pollMs ?? 30_000).unref();
  }

  async #pollVersions(pool: Queryable): Promise<void> {
    const versions = await readChangeVersions(pool);
    const seen = this.#seen;
    this.#seen = versions;
    if (!seen) return;
    for (const [topic, version] of versions)
      if (seen.get(topic) !== version) this.#onChange(topic as ChangeTopic);
  }

  async start(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#url,
      connectionTimeoutMillis: 5_000,
      application_name: 'lock-change-feed',
    });
    client.on('notification', (message) => {
      if (message.payload === 'catalog' || message.payload === 'keys') this.#onChange(message.payload);
    });
    client.on('error', () => this.#reconnect(client));
    client.on('end', () => this.#reconnect(client));
    await client.connect();
    await client.query('LISTEN lock_changes'); // CHANGE_CHANNEL: LISTEN takes no parameters
    this.#client = client;
  }

  #reconnect(failed: pg.Client): void {
    if (this.#stopped || this.#client !== failed) return;
    this.#client = undefined;
    failed.end().catch(() => {});
    this.#log.warn('change feed lost its database connection; reconnecting');
    const attempt = () => {
      this.#retry = undefined;
      if (this.#stopped) return;
      this.start()
        .then(() => this.#onChange('all')) // catch up on whatever changed while we were away
        .catch(() => {
          this.#retry = setTimeout(attempt, 1_000).unref();
        });
    };
    this.#retry = setTimeout(attempt, 250).unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#poll);
    clearTimeout(this.#retry);
    await this.#client?.end().catch(() => {});
  }
}
