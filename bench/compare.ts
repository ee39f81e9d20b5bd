/**
 * `node bench/compare.ts <other checkout> [algs | refresh[:client]]`: this checkout's Lock and
 * another's (e.g. a `git archive` of the commit before a change, with node_modules linked), both at
 * the default configuration, taking turns in the same slices — on client credentials (CPU µs per
 * token of each, for each algorithm named; all by default) or on rotating refreshes (`refresh`:
 * the web client, RS256 ID tokens; `refresh:bench-web-es256` for ES256 ones; CPU µs per refresh of
 * each Lock and of PostgreSQL). BENCH_DURATION, BENCH_WARMUP as for the bench.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENV_DEFAULTS } from '../src/config/defaults.ts';
import { compareHttp } from './lib/http-load.ts';
import { startBenchPostgres } from './lib/postgres.ts';
import { compareRefreshCost, REFRESH_CONCURRENCY } from './lib/refresh-cost.ts';
import { startLock } from './lib/servers.ts';
import {
  clientCredentialsRequest,
  newClientSecret,
  SIGNING_ALGS,
  type SigningAlg,
  WEB_CLIENT_ID,
} from './lib/workload.ts';

const other = resolve(process.argv[2] ?? '');
const mode = process.argv[3] ?? SIGNING_ALGS.join(',');
const refreshClient = mode.startsWith('refresh') ? (mode.split(':')[1] ?? WEB_CLIENT_ID) : undefined;
const algs = (refreshClient ? [] : mode.split(',')) as SigningAlg[];
const durationS = Number(process.env.BENCH_DURATION ?? 10);
const warmupS = Number(process.env.BENCH_WARMUP ?? 3);
const secret = newClientSecret();
const work = await mkdtemp(join(tmpdir(), 'lock-compare-'));
const postgresDir = await mkdtemp(join(tmpdir(), 'lock-compare-pg-'));
const postgres = await startBenchPostgres(postgresDir);
const env = Object.fromEntries(
  (
    ['LOG_LEVEL', 'LOCK_RATE_LIMIT_TOKEN', 'LOCK_RATE_LIMIT_AUTHORIZATION', 'LOCK_RATE_LIMIT_LOGIN'] as const
  ).map((name) => [name, String(ENV_DEFAULTS[name])]),
);
try {
  const start = async (name: string, root?: string) =>
    startLock({
      databaseUrl: (await postgres.createDatabase()).url,
      stateDir: join(work, name),
      clientSecret: secret,
      name,
      env,
      ...(root && { root }),
    });
  const servers = [await start('this checkout'), await start(`other: ${other}`, other)];
  console.log(`load average at start: ${loadavg()[0]!.toFixed(1)}`);
  if (refreshClient) {
    const figures = await compareRefreshCost(servers, {
      secret,
      password: secret,
      postmasterPid: postgres.postmasterPid(),
      durationS: Math.max(durationS, 18),
      concurrency: REFRESH_CONCURRENCY,
      clientId: refreshClient,
    });
    for (const [index, server] of servers.entries()) {
      const f = figures[index]!;
      console.log(
        `refresh (${refreshClient}), ${server.name}: Lock ${f.lockCpuUs.toFixed(0)} µs (loop ${f.lockEventLoopCpuUs.toFixed(0)}), PostgreSQL ${f.postgresCpuUs.toFixed(0)} µs per refresh; ${f.perSecond.toFixed(0)}/s; Lock by slice ${f.lockCpuUsBySlice.map((us) => us.toFixed(0)).join(' ')}; problems: ${f.problems.length}`,
      );
    }
  }
  for (const alg of algs) {
    const figures = await compareHttp(servers, clientCredentialsRequest(alg, secret), {
      connections: 20,
      warmupS,
      durationS,
    });
    const us = (ms: number | undefined) => (ms === undefined ? '–' : (ms * 1000).toFixed(0));
    console.log(
      `${alg}: this ${us(figures[0]!.serverCpuMsPerRequest)} µs (loop ${us(figures[0]!.eventLoopCpuMsPerRequest)}), other ${us(figures[1]!.serverCpuMsPerRequest)} µs (loop ${us(figures[1]!.eventLoopCpuMsPerRequest)}) per token; peak RSS ${figures[0]!.peakRssMiB?.toFixed(0)} vs ${figures[1]!.peakRssMiB?.toFixed(0)} MiB; problems: ${figures.flatMap((f) => f.problems).length}`,
    );
  }
  console.log(`load average at end: ${loadavg()[0]!.toFixed(1)}`);
  for (const server of servers) await server.stop();
} finally {
  await postgres.stop();
  await rm(work, { recursive: true, force: true });
  await rm(postgresDir, { recursive: true, force: true });
}
