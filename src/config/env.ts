import { z } from 'zod';
import { LANGUAGES } from '../web/i18n.ts';
import { ENV_DEFAULTS } from './defaults.ts';
import { ConfigError, describeIssues } from './schema-errors.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** `LOCK_WORKERS` and `lock serve --workers`: a number of worker processes, or `auto` (one per CPU). */
export const workersSetting = z
  .string()
  .refine(
    (value) => value === 'auto' || (/^[1-9]\d{0,2}$/.test(value) && Number(value) <= 256),
    'must be a whole number from 1 to 256, or "auto" (one per CPU)',
  );

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Lock's environment, each variable with its default from defaults.ts (the one place defaults
 * live); docs/configuration.md describes the same list.
 */
/** A comma-separated list, each item checked by `item`. */
function commaList(item: z.ZodType<string, string>) {
  return z
    .string()
    .transform((list) =>
      list
        .split(',')
        .map((value) => value.trim())
        .filter((value) => value !== ''),
    )
    .pipe(z.array(item));
}

const envSchema = z
  .object({
    LOCK_ISSUER: z
      .url({ protocol: /^https?$/, message: 'must be an http(s) URL, e.g. https://login.example.com' })
      .default(ENV_DEFAULTS.LOCK_ISSUER)
      .transform((value) => value.replace(/\/+$/, '')),
    PORT: z.coerce.number().int().min(0).max(65535).default(ENV_DEFAULTS.PORT),
    /** Where the landing page at / links for documentation (your guides, or Lock's README); unset: no link. */
    LOCK_DOCS_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
    HOST: z.string().min(1).default(ENV_DEFAULTS.HOST),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    /** The owner's URL, for migrations; Lock then runs on DATABASE_URL with only lock_runtime's grants. */
    LOCK_MIGRATE_DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    LOCK_CONFIG: z.string().min(1).optional(),
    LOCK_KEYS_DIR: z.string().min(1).default(ENV_DEFAULTS.LOCK_KEYS_DIR),
    LOCK_KEK: z.string().min(1).optional(),
    LOCK_DATA_DIR: z.string().min(1).default(ENV_DEFAULTS.LOCK_DATA_DIR),
    LOCK_BOOTSTRAP_ADMIN_PASSWORD: z.string().min(1).optional(),
    LOCK_TRUST_PROXY: flag.default(ENV_DEFAULTS.LOCK_TRUST_PROXY),
    /** The authorization endpoint also by POST (OIDC Core §3.1.2.1); session cookies become SameSite=None. */
    LOCK_AUTHORIZATION_POST: flag.default(ENV_DEFAULTS.LOCK_AUTHORIZATION_POST),
    /** How long verifiers may cache the JWKS; keys are published this long before they sign. */
    LOCK_JWKS_MAX_AGE: z.coerce.number().int().min(0).max(86_400).default(ENV_DEFAULTS.LOCK_JWKS_MAX_AGE),
    /** Seconds between automatic signing-key rotations (0: only `lock keys rotate`). Default 90 days. */
    LOCK_KEY_ROTATION_INTERVAL: z.coerce
      .number()
      .int()
      .min(0)
      .default(ENV_DEFAULTS.LOCK_KEY_ROTATION_INTERVAL),
    /** The sliding window of the rate limits, and the requests allowed per window (0: no limit). */
    LOCK_RATE_LIMIT_WINDOW: z.coerce
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(ENV_DEFAULTS.LOCK_RATE_LIMIT_WINDOW),
    LOCK_RATE_LIMIT_TOKEN: z.coerce.number().int().min(0).default(ENV_DEFAULTS.LOCK_RATE_LIMIT_TOKEN),
    LOCK_RATE_LIMIT_INTROSPECTION: z.coerce
      .number()
      .int()
      .min(0)
      .default(ENV_DEFAULTS.LOCK_RATE_LIMIT_INTROSPECTION),
    LOCK_RATE_LIMIT_AUTHORIZATION: z.coerce
      .number()
      .int()
      .min(0)
      .default(ENV_DEFAULTS.LOCK_RATE_LIMIT_AUTHORIZATION),
    LOCK_RATE_LIMIT_LOGIN: z.coerce.number().int().min(0).default(ENV_DEFAULTS.LOCK_RATE_LIMIT_LOGIN),
    LOCK_RATE_LIMIT_DEVICE: z.coerce.number().int().min(0).default(ENV_DEFAULTS.LOCK_RATE_LIMIT_DEVICE),
    LOCK_RATE_LIMIT_REGISTRATION: z.coerce
      .number()
      .int()
      .min(0)
      .default(ENV_DEFAULTS.LOCK_RATE_LIMIT_REGISTRATION),
    /** Password verifies (argon2) one process runs at once, and sign-ins that may wait for one: docs/passwords.md. */
    LOCK_PASSWORD_VERIFY_CONCURRENCY: z.coerce
      .number()
      .int()
      .min(1)
      .max(256)
      .default(ENV_DEFAULTS.LOCK_PASSWORD_VERIFY_CONCURRENCY),
    LOCK_PASSWORD_VERIFY_QUEUE: z.coerce
      .number()
      .int()
      .min(0)
      .max(100_000)
      .default(ENV_DEFAULTS.LOCK_PASSWORD_VERIFY_QUEUE),
    /** Per address, on every page and form of a sign-in (`/interaction/…`). */
    LOCK_RATE_LIMIT_INTERACTION: z.coerce
      .number()
      .int()
      .min(0)
      .default(ENV_DEFAULTS.LOCK_RATE_LIMIT_INTERACTION),
    /** Per address, on a SAML connector's endpoints (`/saml/…`: ACS and SP metadata). */
    LOCK_RATE_LIMIT_SAML: z.coerce.number().int().min(0).default(ENV_DEFAULTS.LOCK_RATE_LIMIT_SAML),
    /** Threads that schema-check SAML documents, and how many documents may wait for one (then 503). */
    LOCK_SAML_VALIDATION_THREADS: z.coerce
      .number()
      .int()
      .min(1)
      .max(32)
      .default(ENV_DEFAULTS.LOCK_SAML_VALIDATION_THREADS),
    LOCK_SAML_VALIDATION_QUEUE: z.coerce
      .number()
      .int()
      .min(0)
      .max(10_000)
      .default(ENV_DEFAULTS.LOCK_SAML_VALIDATION_QUEUE),
    /** A sign-in session ends after this many seconds unused, and after the maximum age in any case. */
    LOCK_SESSION_IDLE_TIMEOUT: z.coerce.number().int().min(1).default(ENV_DEFAULTS.LOCK_SESSION_IDLE_TIMEOUT),
    LOCK_SESSION_MAX_AGE: z.coerce.number().int().min(1).default(ENV_DEFAULTS.LOCK_SESSION_MAX_AGE),
    /** /account changes need a sign-in at most this many seconds old (docs/account.md). */
    LOCK_ACCOUNT_REAUTH_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 3600)
      .default(ENV_DEFAULTS.LOCK_ACCOUNT_REAUTH_SECONDS),
    /** Audit events older than this many days are pruned (by the owner: `lock audit prune`, or by Lock when it may). */
    LOCK_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).default(ENV_DEFAULTS.LOCK_AUDIT_RETENTION_DAYS),
    /** `lock serve` forks this many workers (node:cluster); unset: one process. */
    LOCK_WORKERS: workersSetting.optional(),
    LOCK_DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(ENV_DEFAULTS.LOCK_DB_POOL_SIZE),
    /** Bearer token /metrics asks for; unset: /metrics answers loopback scrapes only (docs/operations.md). */
    LOCK_METRICS_TOKEN: z
      .string()
      .min(16)
      // What a scraper can send as `Authorization: Bearer <token>` (RFC 6750 §2.1 b64token).
      .regex(/^[A-Za-z0-9\-._~+/]+=*$/, 'must be a bearer token: letters, digits and - . _ ~ + / only')
      .optional(),
    LOG_LEVEL: z.enum(LOG_LEVELS).default(ENV_DEFAULTS.LOG_LEVEL),
    /** PEM files: with both set, Lock serves HTTPS itself. */
    LOCK_TLS_CERT: z.string().min(1).optional(),
    LOCK_TLS_KEY: z.string().min(1).optional(),
    /** An http:// issuer outside localhost is refused unless this says it is a development setup. */
    LOCK_ALLOW_HTTP_ISSUER: flag.default(ENV_DEFAULTS.LOCK_ALLOW_HTTP_ISSUER),
    /**
     * Local accounts holding any of these roles (comma-separated) must sign in with TOTP: docs/totp.md.
     * Administrators by default (docs/deployment.md); `none` requires it of no role.
     */
    LOCK_MFA_REQUIRED_ROLES: z
      .string()
      .regex(/^[\w.:,\s-]*$/, 'must be role names separated by commas, e.g. lock_admin,app_admin')
      .default(ENV_DEFAULTS.LOCK_MFA_REQUIRED_ROLES)
      .transform((list) =>
        list.trim() === 'none'
          ? []
          : list
              .split(',')
              .map((role) => role.trim())
              .filter((role) => role !== ''),
      ),
    /** Local accounts holding any of these roles (comma-separated) must sign in with a passkey: docs/passkeys.md. */
    LOCK_PASSKEY_REQUIRED_ROLES: commaList(z.string().regex(/^[\w.:-]+$/, 'must be a role name')).optional(),
    /** Authenticator models (AAGUIDs, comma-separated) a passkey may be registered on; unset: any. */
    LOCK_PASSKEY_AAGUIDS: commaList(
      z
        .string()
        .regex(
          /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
          'must be an AAGUID',
        )
        .transform((aaguid) => aaguid.toLowerCase()),
    ).optional(),
    /** Dynamic client registration (docs/mcp.md): `off`, `open` (public clients freely), `token` (initial access token only). */
    LOCK_REGISTRATION: z.enum(['off', 'open', 'token']).default(ENV_DEFAULTS.LOCK_REGISTRATION),
    /** The initial access token an administrator hands out for confidential (or, in `token` mode, any) registrations. */
    LOCK_REGISTRATION_INITIAL_ACCESS_TOKEN: z
      .string()
      .min(32)
      .regex(/^[A-Za-z0-9\-._~+/]+=*$/, 'must be a bearer token: letters, digits and - . _ ~ + / only')
      .optional(),
    /** Resource ids (comma-separated) registered clients may get tokens for. */
    LOCK_REGISTRATION_RESOURCES: commaList(z.url()).optional(),
    /** Redirect URIs (comma-separated) an open registration may name besides loopback ones. */
    LOCK_REGISTRATION_REDIRECT_URIS: commaList(z.url()).optional(),
    LOCK_REGISTRATION_SCOPES: z
      .string()
      .regex(/^[\x21\x23-\x5b\x5d-\x7e,]*$/, 'must be scope names separated by commas')
      .default(ENV_DEFAULTS.LOCK_REGISTRATION_SCOPES)
      .transform((list) => list.split(',').filter((scope) => scope !== '')),
    LOCK_REGISTRATION_UNUSED_TTL: z.coerce
      .number()
      .int()
      .min(3600)
      .default(ENV_DEFAULTS.LOCK_REGISTRATION_UNUSED_TTL),
    /** Mail (docs/email.md): smtp:// or smtps:// (credentials may be in it); unset, the mail features are off. */
    LOCK_SMTP_URL: z
      .string()
      .regex(/^smtps?:\/\/[^/\s]+\/?(\?\S*)?$/, 'must be smtp://[user:password@]host[:port] or smtps://…')
      .optional(),
    /** The sender of Lock's mails: `lock@example.com` or `Lock <lock@example.com>`. */
    LOCK_MAIL_FROM: z
      .string()
      .regex(
        /^(?:[^<>\r\n]{0,100}<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/,
        'must be an address, e.g. lock@example.com or "Lock <lock@example.com>"',
      )
      .optional(),
    LOCK_PASSWORD_RESET_TTL: z.coerce
      .number()
      .int()
      .min(60)
      .max(86_400)
      .default(ENV_DEFAULTS.LOCK_PASSWORD_RESET_TTL),
    LOCK_EMAIL_VERIFICATION_TTL: z.coerce
      .number()
      .int()
      .min(300)
      .max(30 * 86_400)
      .default(ENV_DEFAULTS.LOCK_EMAIL_VERIFICATION_TTL),
    LOCK_RATE_LIMIT_PASSWORD_RESET: z.coerce
      .number()
      .int()
      .min(0)
      .default(ENV_DEFAULTS.LOCK_RATE_LIMIT_PASSWORD_RESET),
    LOCK_PASSWORD_RESET_MAILS_PER_HOUR: z.coerce
      .number()
      .int()
      .min(1)
      .max(100)
      .default(ENV_DEFAULTS.LOCK_PASSWORD_RESET_MAILS_PER_HOUR),
    /** The pages' language when the request names none Lock ships (docs/languages.md). */
    LOCK_DEFAULT_LOCALE: z
      .string()
      .refine((language) => LANGUAGES.includes(language), {
        message: `must be a language Lock ships: ${LANGUAGES.join(', ')}`,
      })
      .default(ENV_DEFAULTS.LOCK_DEFAULT_LOCALE),
  })
  .superRefine((env, ctx) => {
    if ((env.LOCK_TLS_CERT === undefined) !== (env.LOCK_TLS_KEY === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['LOCK_TLS_KEY'],
        message: 'LOCK_TLS_CERT and LOCK_TLS_KEY go together',
      });
    if ((env.LOCK_SMTP_URL === undefined) !== (env.LOCK_MAIL_FROM === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['LOCK_MAIL_FROM'],
        message: 'LOCK_SMTP_URL and LOCK_MAIL_FROM go together (both unset: the mail features are off)',
      });
    if (env.LOCK_REGISTRATION === 'token' && env.LOCK_REGISTRATION_INITIAL_ACCESS_TOKEN === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['LOCK_REGISTRATION_INITIAL_ACCESS_TOKEN'],
        message: 'is required when LOCK_REGISTRATION=token',
      });
    const issuer = new URL(env.LOCK_ISSUER);
    if (issuer.protocol === 'http:' && !LOOPBACK_HOSTS.has(issuer.hostname) && !env.LOCK_ALLOW_HTTP_ISSUER)
      ctx.addIssue({
        code: 'custom',
        path: ['LOCK_ISSUER'],
        message:
          'must be https:// outside localhost (tokens and passwords would cross the network in clear); set LOCK_ALLOW_HTTP_ISSUER=true for a development setup',
      });
  });

export type Env = z.output<typeof envSchema>;

/** Every variable Lock reads from its environment. */
export const ENV_VARIABLES = Object.keys(envSchema.shape) as (keyof Env)[];

/** Parses the environment; every bad variable is named in the error. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const result = envSchema.safeParse(present);
  if (!result.success) throw new ConfigError('the environment', describeIssues(result.error.issues));
  return result.data;
}
