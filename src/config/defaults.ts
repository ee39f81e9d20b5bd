/**
 * Lock's defaults, in one place, each with the reason for its value. The environment's are
 * `ENV_DEFAULTS` (env.ts reads them; docs/configuration.md lists them, and
 * test/config/defaults-doc.test.ts checks that the two agree); the others are settings Lock gives
 * no variable to, written here rather than where they are used.
 */

/** The default of each environment variable that has one (the others are unset unless given). */
export const ENV_DEFAULTS = {
  /** For a first try on one machine; anything else must name its public https:// URL. */
  LOCK_ISSUER: 'http://localhost:3000',
  PORT: 3000,
  HOST: '0.0.0.0',
  /** Beside the working directory: the key-encryption key (`kek`), generated on first start. */
  LOCK_KEYS_DIR: './keys',
  /** Embedded PostgreSQL's cluster, when no DATABASE_URL is given. */
  LOCK_DATA_DIR: './data',
  /** No proxy is trusted until the operator says one is in front (X-Forwarded-* are otherwise forged). */
  LOCK_TRUST_PROXY: false,
  /**
   * The authorization endpoint by GET only: POST (which OpenID Connect Core asks for) needs the
   * session cookie sent on cross-site POSTs, SameSite=None, a wider CSRF surface for every client.
   */
  LOCK_AUTHORIZATION_POST: false,
  /** Verifiers cache the JWKS five minutes; keys are published this long before they sign. */
  LOCK_JWKS_MAX_AGE: 300,
  /** 90 days: NIST's cryptoperiod for signing keys is 1-3 years; rotating often keeps the habit working. */
  LOCK_KEY_ROTATION_INTERVAL: 90 * 24 * 3600,
  /** The rate limits count in fixed one-minute windows. */
  LOCK_RATE_LIMIT_WINDOW: 60,
  /** 1000 token requests a second per client: a ceiling against a runaway client, not a quota. */
  LOCK_RATE_LIMIT_TOKEN: 60_000,
  LOCK_RATE_LIMIT_INTROSPECTION: 60_000,
  /** Ten authorization requests a second per address: people, and a NAT full of them. */
  LOCK_RATE_LIMIT_AUTHORIZATION: 600,
  /** Five login posts a second per address; the account lockout (BRUTE_FORCE_DEFAULTS) bounds guessing. */
  LOCK_RATE_LIMIT_LOGIN: 300,
  /** Device authorization requests and user-code page posts (/device/auth, /device) per address. */
  LOCK_RATE_LIMIT_DEVICE: 300,
  /** Dynamic client registrations per address: a person's MCP clients register a few times a day. */
  LOCK_RATE_LIMIT_REGISTRATION: 20,
  /** Four argon2 verifies at once fill libuv's default thread pool. */
  LOCK_PASSWORD_VERIFY_CONCURRENCY: 4,
  /** 64 waiting drain in well under a second; beyond, a 503 with Retry-After. */
  LOCK_PASSWORD_VERIFY_QUEUE: 64,
  /**
   * Fifty requests a second per address under /interaction/ (a sign-in makes 2–5): an office behind
   * one NAT signs in freely, one address flooding made-up interactions is answered 429 cheaply.
   */
  LOCK_RATE_LIMIT_INTERACTION: 3000,
  /** Five posts a second per address to a SAML connector's ACS and metadata: people, not floods. */
  LOCK_RATE_LIMIT_SAML: 300,
  /** Two long-lived libxml2 threads: the ACS never starts one per request. */
  LOCK_SAML_VALIDATION_THREADS: 2,
  /** 64 documents waiting for a schema check; beyond, the ACS answers 503 with Retry-After. */
  LOCK_SAML_VALIDATION_QUEUE: 64,
  /** Two hours unused ends a sign-in session. */
  LOCK_SESSION_IDLE_TIMEOUT: 2 * 3600,
  /** Twelve hours after sign-in a session ends however busy: a working day. */
  LOCK_SESSION_MAX_AGE: 12 * 3600,
  /** A year of audit events: what most audits ask for. */
  LOCK_AUDIT_RETENTION_DAYS: 365,
  /** pg's own default pool size. */
  LOCK_DB_POOL_SIZE: 10,
  LOG_LEVEL: 'info',
  /** An http:// issuer outside localhost sends tokens and passwords in clear: refused by default. */
  LOCK_ALLOW_HTTP_ISSUER: false,
  /** Administrators sign in with a second factor (docs/deployment.md#safe-defaults). */
  LOCK_MFA_REQUIRED_ROLES: 'lock_admin',
  /** Dynamic client registration (docs/mcp.md): off until an administrator chooses a policy. */
  LOCK_REGISTRATION: 'off',
  /** A registered client asks for these OpenID scopes at most, besides its resources' scopes. */
  LOCK_REGISTRATION_SCOPES: 'openid,profile,email,offline_access',
  /** A registration unused for 30 days is deleted: MCP clients register freely, and forget. */
  LOCK_REGISTRATION_UNUSED_TTL: 30 * 24 * 3600,
  /** A password-reset link lives 15 minutes: read at once, and useless in a mailbox read later. */
  LOCK_PASSWORD_RESET_TTL: 15 * 60,
  /** A verification link lives a day: people confirm an address when they next read their mail. */
  LOCK_EMAIL_VERIFICATION_TTL: 24 * 3600,
  /** Ten password-reset requests per window per address: people forget once, a script asks often. */
  LOCK_RATE_LIMIT_PASSWORD_RESET: 10,
  /** Reset mails one account receives per hour at most: a stranger cannot flood a mailbox. */
  LOCK_PASSWORD_RESET_MAILS_PER_HOUR: 3,
  /** Pages speak English when neither ui_locales nor Accept-Language names a shipped language. */
  LOCK_DEFAULT_LOCALE: 'en',
  /**
   * /account changes (password, second factors, sessions) need a sign-in this recent: five minutes
   * is long enough for one errand on the page, short enough that an unattended browser is no key.
   */
  LOCK_ACCOUNT_REAUTH_SECONDS: 300,
} as const;

/** The /account page's own session (src/account/page-sessions.ts; docs/account.md). */
export const ACCOUNT_PAGE_DEFAULTS = {
  /** Fifteen minutes unused ends it: the page is visited for an errand, not kept open. */
  idleSeconds: 15 * 60,
  /** Never longer than a working day, whatever the use (the Lock session's own maximum). */
  maxAgeSeconds: 12 * 3600,
} as const;

/** Lifetimes in seconds of what oidc-provider issues (docs/tokens.md lists them). */
export const TOKEN_LIFETIMES = {
  /** A code is redeemed within seconds of its redirect; one minute allows a slow network. */
  AuthorizationCode: 60,
  /** Access tokens without a resource (for userinfo only); resource tokens use the resource's TTL. */
  AccessToken: 600,
  /** Client-credentials tokens without a resource; with one, the resource's `accessTokenTTL`. */
  ClientCredentials: 300,
  /** ID tokens are read once, at sign-in. */
  IdToken: 3600,
  RefreshToken: 14 * 24 * 3600,
  Session: 14 * 24 * 3600,
  Grant: 14 * 24 * 3600,
  /** oidc-provider's own: one sign-in interaction (login, consent, second factor). */
  Interaction: 3600,
  /** RFC 8628: the time a person has to enter a device's user code, sign in and approve. */
  DeviceCode: 600,
} as const;

/** The device authorization grant (RFC 8628; src/oidc/device-flow.ts, docs/device-flow.md). */
export const DEVICE_FLOW_DEFAULTS = {
  /** Seconds a device waits between polls (`interval`, RFC 8628 §3.2's own default). */
  pollIntervalSeconds: 5,
  /** What each `slow_down` adds to the device's interval (RFC 8628 §3.5). */
  slowDownIncrementSeconds: 5,
  /**
   * Wrong user codes one address may enter before each further one locks it (1 minute more per
   * attempt, 15 minutes at most: BRUTE_FORCE_DEFAULTS' waits). 8 characters of 20 are 2^34 codes.
   */
  userCodeAttemptsPerAddress: 20,
} as const;

/**
 * Password guessing (src/security/brute-force.ts): past the threshold each failure locks the account
 * 1 minute more per attempt, 15 minutes at most, counts forgotten 12 hours after the first one.
 */
export const BRUTE_FORCE_DEFAULTS = {
  accountThreshold: 30,
  /** Higher than the account's: one address may serve many people (NAT, proxies). */
  addressThreshold: 100,
  waitIncrementSeconds: 60,
  maxWaitSeconds: 900,
  resetAfterSeconds: 12 * 3600,
  /** Password posts one sign-in interaction may make; then the person starts again from the application. */
  attemptsPerInteraction: 10,
} as const;

/** Client-secret guessing at the token endpoints (src/security/client-auth-guard.ts). */
export const CLIENT_AUTH_DEFAULTS = {
  /** Failures of one client from one address before each further one locks. */
  clientAddressThreshold: 10,
  /** Failures from one address, whatever the client, before each further one locks. */
  addressThreshold: 50,
  waitIncrementSeconds: 60,
  maxWaitSeconds: 900,
  resetAfterSeconds: 3600,
} as const;

/** How often each Lock process tries to prune expired rows (an advisory lock lets one of them do it). */
export const PRUNE_INTERVAL_MS = 5 * 60_000;

/** Delivery of back-channel logout tokens (src/oidc/backchannel-logout.ts; docs/logout.md). */
export const BACKCHANNEL_LOGOUT_DELIVERY = {
  /** Tries per logout token: a client restarting or briefly overloaded still hears of the logout. */
  attempts: 3,
  /** Each try waits this long for an answer (oidc-provider's own timeout for outgoing requests). */
  timeoutMs: 2500,
  /** The pause before the second try; it doubles before each further one. */
  backoffMs: 500,
  /** Deliveries at once per process. */
  concurrency: 8,
  /** Queued and running deliveries per process; beyond, a notice is dropped (and audited). */
  queueLimit: 1000,
  /** A logout token is valid two minutes (oidc-provider's choice): long enough for one delivery. */
  tokenLifetimeSeconds: 120,
} as const;

/** Sending mail (src/mail/mailer.ts; docs/email.md): bounded, off the request, never retried forever. */
export const MAIL_DELIVERY = {
  /** Each SMTP step waits this long at most: a dead server costs a send seconds, never a request. */
  connectionTimeoutMs: 10_000,
  greetingTimeoutMs: 10_000,
  socketTimeoutMs: 20_000,
  /** Messages sent at once per process. */
  concurrency: 2,
  /** Queued and sending messages per process; beyond, a message is dropped (logged and audited). */
  queueLimit: 500,
  /** Password-reset requests looked up at once per process, off the request (the same answer for all). */
  resetWorkConcurrency: 2,
  /** Accounts one reset request may name (an email shared by several accounts mails each). */
  accountsPerResetRequest: 5,
} as const;
