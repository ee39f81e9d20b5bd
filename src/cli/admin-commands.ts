import { parseArgs } from 'node:util';
import { ensureAdminRole } from '../admin/bootstrap.ts';
import { applyDeclarativeConfig } from '../admin/declarative/apply.ts';
import { loadDeclarativeFile } from '../admin/declarative/file.ts';
import { recordAuditEvent } from '../audit/audit.ts';
import { loadCatalog } from '../catalog/catalog.ts';
import { loadEnv } from '../config/env.ts';
import { computeKeySet } from '../keys/key-set.ts';
import { rotateSigningKeys } from '../keys/signing-keys.ts';
import { SIGNING_ALGS, type SigningAlg } from '../model/signing-alg.ts';
import { pruneAuditEvents } from '../store/audit-events.ts';
import { openDatabase } from '../store/database.ts';
import { migrateAs } from '../store/migrate.ts';
import { createPool } from '../store/pool.ts';
import { listSigningKeys } from '../store/signing-keys.ts';
import { cliLogger, print } from './output.ts';
import { type Session, withSession } from './session.ts';

export async function migrateCommand(): Promise<void> {
  const env = loadEnv();
  const database = await openDatabase(env, cliLogger(), 'lock-cli');
  try {
    const { applied } = await migrateAs(env.LOCK_MIGRATE_DATABASE_URL, database.pool, (name) =>
      print(`applying migration ${name}`),
    );
    print(applied.length > 0 ? `applied ${applied.length} migration(s)` : 'database is up to date');
  } finally {
    await database.close();
  }
}

export async function configCheckCommand(file: string): Promise<void> {
  const config = await loadDeclarativeFile(file);
  print(
    `${file} is valid: ${config.roles.length} roles, ${config.resources.length} resources, ${config.clients.length} clients, ` +
      `${config.connectors.length} connectors, ${config.roleMappings.length} role mappings, ${config.users.length} users`,
  );
}

export async function configApplyCommand(file: string): Promise<void> {
  const config = await loadDeclarativeFile(file);
  await withSession(async ({ env, database, box }) => {
    // As at start-up: the file may refer to Lock's own role (an automation client holding lock_admin).
    await ensureAdminRole(database.pool);
    const summary = await applyDeclarativeConfig(database.pool, box, config, env.LOCK_ISSUER);
    for (const item of summary.created) print(`created ${item}`);
    for (const item of summary.updated) print(`updated ${item}`);
    for (const item of summary.removed) print(`removed ${item}`);
    // On stderr beside the log: stdout stays the summary.
    for (const warning of summary.warnings) process.stderr.write(`warning: ${warning}\n`);
    print(
      `${file} applied: ${summary.created.length} created, ${summary.updated.length} updated, ` +
        `${summary.removed.length} removed, ${summary.unchanged} unchanged`,
    );
  });
}

/**
 * `lock keys export --format jwks`: the JWKS as the endpoint serves it (signing, next and retired
 * public keys), for consumers that read keys from a file rather than a URL (PostgREST).
 */
export async function keysExportCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { format: { type: 'string', default: 'jwks' }, alg: { type: 'string', multiple: true } },
  });
  if (values.format !== 'jwks') throw new Error(`--format must be jwks (got ${values.format})`);
  const algs = parseAlgs(values.alg ?? []);
  await withSession(async (session) => {
    const keys = (await publishedKeys(session))
      .filter(({ key }) => algs.length === 0 || algs.includes(key.alg))
      .map(({ key }) => key.publicJwk);
    print(JSON.stringify({ keys }, null, 2));
  });
}

async function publishedKeys({ env, database, box }: Session) {
  const catalog = await loadCatalog(database.pool, box, env.LOCK_ISSUER);
  const retentionSeconds = catalog.longestTokenTtl + env.LOCK_JWKS_MAX_AGE;
  return computeKeySet(await listSigningKeys(database.pool), new Date(), retentionSeconds).published;
}

function parseAlgs(algs: string[]): SigningAlg[] {
  const unknown = algs.filter((alg) => !(SIGNING_ALGS as readonly string[]).includes(alg));
  if (unknown.length > 0)
    throw new Error(`--alg must be one of ${SIGNING_ALGS.join(', ')} (got ${unknown.join(', ')})`);
  return algs as SigningAlg[];
}

export async function keysRotateCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { alg: { type: 'string', multiple: true } } });
  const algs = parseAlgs(values.alg ?? []);
  await withSession(async ({ env, database, box }) => {
    const added = await rotateSigningKeys(database.pool, box, {
      now: new Date(),
      prepublishSeconds: env.LOCK_JWKS_MAX_AGE,
      ...(algs.length > 0 && { algs }),
    });
    for (const key of added) {
      print(`added ${key.alg} key ${key.kid}: published now, signs from ${key.activatesAt.toISOString()}`);
      await recordAuditEvent(database.pool, {
        type: 'keys.rotated',
        outcome: 'success',
        actor: 'cli',
        subject: key.kid,
        details: { alg: key.alg, activatesAt: key.activatesAt.toISOString() },
      });
    }
    print(
      'running Lock processes pick the keys up at once; the previous keys stay published until their tokens expire',
    );
  });
}

/** `lock audit prune [--days N]`: deletes audit events past the retention (as the owner when LOCK_MIGRATE_DATABASE_URL is set). */
export async function auditPruneCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { days: { type: 'string' } } });
  await withSession(async ({ env, database }) => {
    const days = values.days === undefined ? env.LOCK_AUDIT_RETENTION_DAYS : Number(values.days);
    if (!Number.isInteger(days) || days < 1)
      throw new Error('--days must be a whole number of days, at least 1');
    const owner = env.LOCK_MIGRATE_DATABASE_URL
      ? createPool({ url: env.LOCK_MIGRATE_DATABASE_URL, max: 1, applicationName: 'lock-audit-prune' })
      : undefined;
    try {
      const pruned = await pruneAuditEvents(owner ?? database.pool, new Date(Date.now() - days * 86_400_000));
      print(`pruned ${pruned} audit events older than ${days} days`);
    } finally {
      await owner?.end();
    }
  });
}
