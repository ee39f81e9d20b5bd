// The example API: `node examples/postgres-api/src/main.ts` from the repository root (Node 24).
import pino from 'pino';
import { startApi } from './app.ts';
import { loadApiEnv } from './config.ts';

let env: ReturnType<typeof loadApiEnv>;
try {
  env = loadApiEnv(process.env);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
const log = pino({ level: env.LOG_LEVEL });
const api = await startApi({
  issuer: env.LOCK_ISSUER,
  audience: env.API_AUDIENCE,
  databaseUrl: env.API_DATABASE_URL,
  host: env.HOST,
  port: env.PORT,
  ...(env.API_PUBLIC_URL !== undefined && { publicUrl: env.API_PUBLIC_URL }),
  requireDpop: env.API_REQUIRE_DPOP === 'true',
  dpopNonceLifetime: env.API_DPOP_NONCE_LIFETIME,
  log,
});
log.info({ url: api.url, issuer: env.LOCK_ISSUER, audience: env.API_AUDIENCE }, 'postgres-api listening');

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    log.info({ signal }, 'shutting down');
    api.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
