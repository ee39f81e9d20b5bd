import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { COMPILE_CACHE_DIR, SERVER_ENV, SERVER_NODE_FLAGS } from '../../src/cli/node-flags.ts';
import { findFreePort } from '../../src/store/embedded-postgres.ts';
import { type ServerProcess, startServerProcess } from './server-process.ts';
import { CLIENT_SECRET_ENV, lockConfigYaml, USER_PASSWORD_ENV } from './workload.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const RATE_LIMIT_OUT_OF_REACH = 1_000_000_000;

export interface LockStartOptions {
  databaseUrl: string;
  /** Holds the key-encryption key and the declarative file; reuse it to restart the same Lock. */
  stateDir: string;
  clientSecret: string;
  /** `LOCK_WORKERS`: a cluster of this many worker processes. */
  workers?: number;
  /** YAML appended to the declarative file (e.g. a `connectors:` block). */
  extraConfig?: string;
  /** How the reports name it; by default `Lock` (or `Lock, N workers`). */
  name?: string;
  /** Extra environment, over the defaults below. */
  env?: Record<string, string>;
  /** Another checkout's root, to run its src/main.ts (a before/after comparison: bench/compare.ts). */
  root?: string;
  /** Node's flags, instead of the server's own (bench/profile.ts adds --cpu-prof). */
  nodeFlags?: readonly string[];
}

/** `node src/main.ts` as production runs it, against an external (to Lock) database. */
export async function startLock(options: LockStartOptions): Promise<ServerProcess> {
  const keysDir = join(options.stateDir, 'keys');
  const configFile = join(options.stateDir, 'lock.yaml');
  await mkdir(keysDir, { recursive: true, mode: 0o700 });
  await writeFile(configFile, lockConfigYaml() + (options.extraConfig ?? ''));
  const port = await findFreePort();
  return startServerProcess({
    name: options.name ?? (options.workers ? `Lock, ${options.workers} workers` : 'Lock'),
    script: join(options.root ?? repoRoot, 'src/main.ts'),
    // As `npm start` and the Dockerfile run it.
    nodeFlags: options.nodeFlags ?? SERVER_NODE_FLAGS,
    port,
    readyPath: '/readyz',
    ...(options.workers && { workers: options.workers }),
    env: {
      ...(options.workers && { LOCK_WORKERS: String(options.workers) }),
      // As `npm start` runs it (package.json).
      ...SERVER_ENV,
      NODE_COMPILE_CACHE: join(options.root ?? repoRoot, COMPILE_CACHE_DIR),
      DATABASE_URL: options.databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOCK_ISSUER: `http://127.0.0.1:${port}`,
      LOCK_KEYS_DIR: keysDir,
      LOCK_CONFIG: configFile,
      LOG_LEVEL: 'warn',
      // The limiter stays in the path (its per-request work and once-a-second sync are measured),
      // with a limit no load from one client and address can reach: the default would answer 429.
      LOCK_RATE_LIMIT_TOKEN: String(RATE_LIMIT_OUT_OF_REACH),
      LOCK_RATE_LIMIT_AUTHORIZATION: String(RATE_LIMIT_OUT_OF_REACH),
      LOCK_RATE_LIMIT_LOGIN: String(RATE_LIMIT_OUT_OF_REACH),
      [CLIENT_SECRET_ENV]: options.clientSecret,
      [USER_PASSWORD_ENV]: options.clientSecret,
      ...options.env,
    },
  });
}

/** bench/bare-provider.ts: oidc-provider alone, the ceiling for Lock's token path. */
export async function startBareProvider(
  clientSecret: string,
  nodeFlags: readonly string[] = SERVER_NODE_FLAGS,
): Promise<ServerProcess> {
  const port = await findFreePort();
  return startServerProcess({
    name: 'bare oidc-provider',
    script: join(repoRoot, 'bench/bare-provider.ts'),
    // The same runtime settings as Lock's: only the code differs.
    nodeFlags,
    port,
    readyPath: '/jwks',
    env: {
      ...SERVER_ENV,
      PORT: String(port),
      ISSUER: `http://127.0.0.1:${port}`,
      [CLIENT_SECRET_ENV]: clientSecret,
    },
  });
}
