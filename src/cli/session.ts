import { type Env, loadEnv } from '../config/env.ts';
import { loadKeyEncryptionKey, SecretBox } from '../security/secret-box.ts';
import { type Database, openDatabase } from '../store/database.ts';
import { migrateAs } from '../store/migrate.ts';
import { cliLogger } from './output.ts';

export interface Session {
  env: Env;
  database: Database;
  box: SecretBox;
  /** Where the KEK came from, for messages that name it. */
  kekSource: string;
}

/** Opens the database (migrated) and the KEK for one command, and closes them after it. */
export async function withSession<T>(fn: (session: Session) => Promise<T>): Promise<T> {
  const env = loadEnv();
  const log = cliLogger();
  const database = await openDatabase(env, log, 'lock-cli');
  try {
    // Progress on stderr: stdout may be a command's product (`lock config export`).
    await migrateAs(env.LOCK_MIGRATE_DATABASE_URL, database.pool, (name) =>
      process.stderr.write(`applying migration ${name}\n`),
    );
    const kek = await loadKeyEncryptionKey({ kek: env.LOCK_KEK, keysDir: env.LOCK_KEYS_DIR });
    return await fn({ env, database, box: new SecretBox(kek.key), kekSource: kek.source });
  } finally {
    await database.close();
  }
}
