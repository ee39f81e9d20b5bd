/**
 * `node bench/profile.ts [lock|tuned|bare|refresh] [seconds]`: one server under one load with V8's CPU
 * profiler on (--cpu-prof), stopped gracefully so the profile is written to PROFILE_DIR
 * (default /tmp/lock-prof). Summarise with `node bench/lib/profile-summary.ts <file>`.
 * Lock runs at the default configuration (LOG_LEVEL=info, default rate limits, audit); `tuned`:
 * as bench/run.ts's tuned Lock (LOG_LEVEL=warn, rate limits out of reach).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags.ts';
import { ENV_DEFAULTS } from '../src/config/defaults.ts';
import { startBenchPostgres } from './lib/postgres.ts';
import { cpuTimeMs } from './lib/process-usage.ts';
import { startBareProvider, startLock } from './lib/servers.ts';
import { signInFlow, tokenRequest } from './lib/user-flows.ts';
import { clientCredentialsRequest, newClientSecret, WEB_CLIENT_ID } from './lib/workload.ts';

const what = process.argv[2] ?? 'lock';
/** `refresh`: the web client signing in; PROFILE_CLIENT=bench-web-es256 for ES256 ID tokens. */
const client = process.env.PROFILE_CLIENT ?? WEB_CLIENT_ID;
const seconds = Number(process.argv[3] ?? 20);
const profileDir = process.env.PROFILE_DIR ?? '/tmp/lock-prof';
const flags = [`--cpu-prof`, `--cpu-prof-dir=${profileDir}`, ...SERVER_NODE_FLAGS];
const secret = newClientSecret();
const work = await mkdtemp(join(tmpdir(), 'lock-prof-'));

const postgresDir = await mkdtemp(join(tmpdir(), 'lock-prof-pg-'));
const postgres = what === 'bare' ? undefined : await startBenchPostgres(postgresDir);
try {
  const server =
    what === 'bare'
      ? await startBareProvider(secret, flags)
      : await startLock({
          databaseUrl: (await postgres!.createDatabase()).url,
          stateDir: join(work, 'lock'),
          clientSecret: secret,
          nodeFlags: flags,
          env:
            what === 'tuned'
              ? {}
              : Object.fromEntries(
                  [
                    'LOG_LEVEL',
                    'LOCK_RATE_LIMIT_TOKEN',
                    'LOCK_RATE_LIMIT_AUTHORIZATION',
                    'LOCK_RATE_LIMIT_LOGIN',
                  ].map((name) => [name, String(ENV_DEFAULTS[name as keyof typeof ENV_DEFAULTS])]),
                ),
        });
  const before = cpuTimeMs(server.pid)!;
  let answered = 0;
  if (what === 'refresh') {
    const tokens = await Promise.all(
      Array.from(
        { length: 16 },
        async () => (await signInFlow(server, secret, secret, client)).refresh_token!,
      ),
    );
    const started = performance.now();
    await Promise.all(
      tokens.map(async (first) => {
        let token = first;
        while (performance.now() - started < seconds * 1000) {
          token = (
            await tokenRequest(server, secret, { grant_type: 'refresh_token', refresh_token: token }, client)
          ).refresh_token!;
          answered++;
        }
      }),
    );
  } else {
    const spec = clientCredentialsRequest('ES256', secret);
    const result = await autocannon({
      url: `${server.url}${spec.path}`,
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
      connections: 16,
      duration: seconds,
    });
    answered = result['2xx'];
    if (result.non2xx) console.log(`non-2xx: ${result.non2xx}`);
  }
  const used = cpuTimeMs(server.pid)! - before;
  console.log(`${what}: ${answered} answers, ${((used * 1000) / answered).toFixed(0)} µs CPU each`);
  await server.stop();
} finally {
  await postgres?.stop();
  await rm(work, { recursive: true, force: true });
  await rm(postgresDir, { recursive: true, force: true });
}
