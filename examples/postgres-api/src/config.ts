import { z } from 'zod';

const url = (what: string) =>
  z.url({
    error: (issue) =>
      issue.input === undefined ? `is required (${what})` : `must be an absolute URL (${what})`,
  });

const envSchema = z.object({
  LOCK_ISSUER: url("Lock's issuer, e.g. http://localhost:3000"),
  API_AUDIENCE: url("this API's resource id in Lock's configuration, e.g. https://db-api.example.com"),
  API_DATABASE_URL: url('postgres://api_authenticator:…@host/db').refine(
    (value) => /^postgres(ql)?:/.test(value),
    'must be a postgres:// URL',
  ),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  /** The URL clients call the API at (DPoP proofs name it); by default http://HOST:PORT. */
  API_PUBLIC_URL: z.url().optional(),
  /** `true`: only DPoP-bound tokens with a proof are accepted, never a Bearer token. */
  API_REQUIRE_DPOP: z.enum(['true', 'false']).default('false'),
  /** Seconds between DPoP nonce rotations; 0 demands no nonce. */
  API_DPOP_NONCE_LIFETIME: z.coerce.number().int().min(0).max(3600).default(0),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type ApiEnv = z.output<typeof envSchema>;

/** The example API's environment, with one line per bad or missing variable. */
export function loadApiEnv(env: Record<string, string | undefined>): ApiEnv {
  const parsed = envSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`postgres-api: bad environment:\n${lines.join('\n')}`);
}
