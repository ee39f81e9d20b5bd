import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AccountService } from './account/account-service.ts';
import { adminConsoleUrl, BOOTSTRAP_ADMIN, bootstrapAdmin, ensureAdminRole } from './admin/bootstrap.ts';
import { applyDeclarativeConfig } from './admin/declarative/apply.ts';
import { loadDeclarativeFile } from './admin/declarative/file.ts';
import { recordAuditEvent } from './audit/audit.ts';
import { ACCOUNT_PAGE_DEFAULTS } from './config/defaults.ts';
import type { Env } from './config/env.ts';
import { configureSchemaValidation } from './connectors/saml/xml-schema.ts';
import { createHttpApp } from './http/app.ts';
import { EdgeRequest } from './http/held-body.ts';
import { requestEdge } from './http/middleware.ts';
import { providerPages } from './interactions/provider-pages.ts';
import { assertKeyEncryptionKeyMatches, ensureSigningKeys, rotateIfDue } from './keys/signing-keys.ts';
import { PasskeyRegistration } from './login/passkey-registration.ts';
import { PasskeySignIn } from './login/passkeys.ts';
import { PasswordReset } from './login/password-reset.ts';
import { PasswordSignIn } from './login/password-sign-in.ts';
import { SecondFactor } from './login/second-factor.ts';
import { relyingPartyOf } from './login/webauthn.ts';
import { sendEmailVerification } from './mail/email-verification.ts';
import { createMail } from './mail/mail.ts';
import { sendSecurityNotice } from './mail/security-notice.ts';
import type { Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { OidcRuntime } from './oidc/runtime.ts';
import { BruteForceGuard, DEFAULT_BRUTE_FORCE_POLICY } from './security/brute-force.ts';
import { ClientAuthGuard } from './security/client-auth-guard.ts';
import { deriveKey } from './security/derive-key.ts';
import { PasswordVerifyGate } from './security/passwords.ts';
import { RateLimiter } from './security/rate-limit.ts';
import { rateLimitRules } from './security/rate-limit-rules.ts';
import { loadKeyEncryptionKey, SecretBox } from './security/secret-box.ts';
import { pruneAuditEvents } from './store/audit-events.ts';
import { ChangeFeed } from './store/change-feed.ts';
import { type Database, openDatabase } from './store/database.ts';
import { migrateAs } from './store/migrate.ts';
import { PRUNE_INTERVAL_MS, pruneExpiredRows } from './store/pruning.ts';
import { findUserByUsername } from './store/users.ts';

export interface Lock {
  database: Database;
  runtime: OidcRuntime;
  box: SecretBox;
  /** Rotates signing keys that are due (run every minute; exposed for tests with an injected clock). */
  maintainKeys(): Promise<void>;
  /** Starts serving HTTP; resolves with the bound port. */
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, lets in-flight requests finish, closes the pool, stops an embedded database. */
  close(): Promise<void>;
}

export interface LockOptions {
  now?: () => Date;
  /** Shows the operator a one-time message (the generated admin password): never the log. */
  announce?: (text: string) => void;
}

/** The composition root: database → migrations → keys → declarative config → OIDC runtime → HTTP. */
export async function createLock(env: Env, log: Logger, options: LockOptions = {}): Promise<Lock> {
  const now = options.now ?? (() => new Date());
  const database = await openDatabase(env, log);
  const closers: Array<() => Promise<unknown> | unknown> = [() => database.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close();
  };
  try {
    const { pool } = database;
    const { applied } = await migrateAs(env.LOCK_MIGRATE_DATABASE_URL, pool, (name) =>
      log.info({ migration: name }, 'applying migration'),
    );
    if (applied.length > 0) log.info({ applied }, 'database migrated');

    const kek = await loadKeyEncryptionKey({ kek: env.LOCK_KEK, keysDir: env.LOCK_KEYS_DIR });
    if (kek.generated)
      log.warn({ path: kek.source }, 'generated a new key-encryption key: back it up with the database');
    const box = new SecretBox(kek.key);
    await assertKeyEncryptionKeyMatches(pool, box, kek.source);

    const created = await ensureSigningKeys(pool, box, now());
    if (created.length > 0) log.info({ kids: created }, 'generated signing keys');

    await ensureAdminRole(pool);
    // Accounts the file created just now: with mail on, each with an email gets a verification mail.
    const createdByFile: string[] = [];
    if (env.LOCK_CONFIG) {
      const summary = await applyDeclarativeConfig(
        pool,
        box,
        await loadDeclarativeFile(env.LOCK_CONFIG),
        env.LOCK_ISSUER,
      );
      const { warnings, ...changes } = summary;
      for (const created of summary.created)
        if (created.startsWith('user ')) createdByFile.push(created.slice('user '.length));
      log.info({ file: env.LOCK_CONFIG, ...changes }, 'declarative configuration applied');
      for (const warning of warnings) log.warn({ file: env.LOCK_CONFIG }, warning);
    }

    const admin = await bootstrapAdmin(pool, env.LOCK_BOOTSTRAP_ADMIN_PASSWORD);
    if (admin.created) log.info({ username: BOOTSTRAP_ADMIN }, 'created the bootstrap admin account');
    if (admin.generatedPassword) {
      const announce = options.announce ?? ((text: string) => process.stderr.write(text));
      announce(
        `\n  Lock created the admin account "${BOOTSTRAP_ADMIN}" with the password:\n\n      ${admin.generatedPassword}\n\n` +
          `  Sign in to the admin console at ${adminConsoleUrl(env.LOCK_ISSUER)}\n\n` +
          '  It is shown this once and stored only as a hash. Sign in and change it (lock users passwd admin).\n' +
          (env.LOCK_MFA_REQUIRED_ROLES.includes('lock_admin')
            ? '  The first sign-in sets up two-step sign-in: have an authenticator app ready.\n\n'
            : '\n'),
      );
    }

    configureSchemaValidation({
      threads: env.LOCK_SAML_VALIDATION_THREADS,
      queue: env.LOCK_SAML_VALIDATION_QUEUE,
    });
    const metrics = new Metrics(pool);
    const rateLimiter = new RateLimiter(
      pool,
      rateLimitRules(
        {
          token: env.LOCK_RATE_LIMIT_TOKEN,
          introspection: env.LOCK_RATE_LIMIT_INTROSPECTION,
          authorization: env.LOCK_RATE_LIMIT_AUTHORIZATION,
          login: env.LOCK_RATE_LIMIT_LOGIN,
          interaction: env.LOCK_RATE_LIMIT_INTERACTION,
          saml: env.LOCK_RATE_LIMIT_SAML,
          device: env.LOCK_RATE_LIMIT_DEVICE,
          registration: env.LOCK_RATE_LIMIT_REGISTRATION,
          passwordReset: env.LOCK_RATE_LIMIT_PASSWORD_RESET,
        },
        (clientId) => runtime.state.catalog.clients.has(clientId),
      ),
      { windowSeconds: env.LOCK_RATE_LIMIT_WINDOW, now },
    );
    rateLimiter.start();
    closers.push(() => rateLimiter.stop());
    // What every request passes through, on Lock's own routes and on oidc-provider's alike.
    const crossCutting = [
      requestEdge({
        log,
        metrics,
        httpsIssuer: env.LOCK_ISSUER.startsWith('https:'),
        admit: (ctx, path) => rateLimiter.admit(ctx, path),
        defaultLocale: env.LOCK_DEFAULT_LOCALE,
        clientAuth: new ClientAuthGuard(pool, (clientId) => runtime.state.catalog.clients.has(clientId), {
          now,
        }),
      }),
    ];

    const runtime = new OidcRuntime({
      providerMiddleware: crossCutting,
      providerPages,
      // Wrong user codes of the device page, counted in PostgreSQL as the login form's attempts are.
      userCodeAttempts: new BruteForceGuard(pool, DEFAULT_BRUTE_FORCE_POLICY, now),
      observeUpstream: (connector, operation, outcome, seconds) =>
        metrics.upstreamDuration.observe({ connector, operation, outcome }, seconds),
      issuer: env.LOCK_ISSUER,
      pool,
      box,
      cookieKey: deriveKey(kek.key, 'oidc cookie signing v1'),
      dpopNonceKey: deriveKey(kek.key, 'dpop nonce v1'),
      kekSource: kek.source,
      jwksMaxAge: env.LOCK_JWKS_MAX_AGE,
      trustProxy: env.LOCK_TRUST_PROXY,
      authorizationPost: env.LOCK_AUTHORIZATION_POST,
      log,
      now,
      sessionLimits: {
        idleSeconds: env.LOCK_SESSION_IDLE_TIMEOUT,
        maxAgeSeconds: env.LOCK_SESSION_MAX_AGE,
        mfaRequiredRoles: env.LOCK_MFA_REQUIRED_ROLES,
        passkeyRequiredRoles: env.LOCK_PASSKEY_REQUIRED_ROLES ?? [],
      },
      onTokenIssued: (grantType, resource) => metrics.tokenIssued(grantType, resource),
      onBackchannelLogout: (outcome) => metrics.backchannelLogouts.inc({ outcome }),
      // Dynamic client registration (docs/mcp.md).
      ...(env.LOCK_REGISTRATION !== 'off' && {
        registration: {
          mode: env.LOCK_REGISTRATION,
          ...(env.LOCK_REGISTRATION_INITIAL_ACCESS_TOKEN && {
            initialAccessToken: env.LOCK_REGISTRATION_INITIAL_ACCESS_TOKEN,
          }),
          resources: env.LOCK_REGISTRATION_RESOURCES ?? [],
          redirectUris: env.LOCK_REGISTRATION_REDIRECT_URIS ?? [],
          scopes: env.LOCK_REGISTRATION_SCOPES,
          unusedTtlSeconds: env.LOCK_REGISTRATION_UNUSED_TTL,
        },
      }),
    });
    await runtime.reload();
    metrics.observeSigningKeys(() =>
      [...runtime.state.keySet.signing.values()].map((key) => ({
        alg: key.alg,
        ageSeconds: (now().getTime() - key.activatesAt.getTime()) / 1000,
      })),
    );
    closers.push(() => runtime.stop());

    const feed = new ChangeFeed(
      database.url,
      log,
      (topic) => {
        runtime.reload().catch((error) => log.error({ err: error, topic }, 'reload after change failed'));
      },
      { pool },
    );
    await feed.start();
    closers.push(() => feed.stop());

    const maintainKeys = async () => {
      const added = await rotateIfDue(pool, box, {
        now: now(),
        intervalSeconds: env.LOCK_KEY_ROTATION_INTERVAL,
        prepublishSeconds: env.LOCK_JWKS_MAX_AGE,
      });
      for (const key of added) {
        log.info({ kid: key.kid, alg: key.alg, activatesAt: key.activatesAt }, 'rotated signing key');
        await recordAuditEvent(pool, {
          type: 'keys.rotated',
          outcome: 'success',
          actor: 'lock (automatic rotation)',
          subject: key.kid,
          details: { alg: key.alg, activatesAt: key.activatesAt.toISOString() },
        });
      }
      if (added.length > 0) await runtime.reload();
    };
    const rotation = setInterval(() => {
      maintainKeys().catch((error) => log.warn({ err: error }, 'automatic key rotation failed'));
    }, 60_000).unref();
    closers.push(() => clearInterval(rotation));

    // With the least-privilege role Lock may not delete audit rows: then `lock audit prune` does it.
    let pruneAllowed = true;
    const pruner = setInterval(() => {
      if (!pruneAllowed) return;
      const before = new Date(now().getTime() - env.LOCK_AUDIT_RETENTION_DAYS * 86_400_000);
      pruneAuditEvents(pool, before).catch((error) => {
        if ((error as { code?: string }).code === '42501') {
          pruneAllowed = false;
          log.info('audit retention is left to `lock audit prune` run as the database owner');
        } else log.warn({ err: error }, 'pruning audit events failed');
      });
    }, 3_600_000).unref();
    closers.push(() => clearInterval(pruner));

    // Expired rows of every table anonymous requests grow (oidc-provider's included): src/store/pruning.ts.
    let pruning: Promise<unknown> = Promise.resolve();
    const expiredRowsPruner = setInterval(() => {
      pruning = pruneExpiredRows(pool, {
        now: now(),
        rateLimitWindowSeconds: env.LOCK_RATE_LIMIT_WINDOW,
        auditRetentionDays: env.LOCK_AUDIT_RETENTION_DAYS,
      }).then(
        (pruned) =>
          log.debug(pruned ? { pruned } : {}, pruned ? 'pruned expired rows' : 'another process prunes'),
        (error) => log.warn({ err: error }, 'pruning expired rows failed'),
      );
    }, PRUNE_INTERVAL_MS).unref();
    closers.push(async () => {
      clearInterval(expiredRowsPruner);
      await pruning;
    });

    // The sign-in library: one brute-force guard and one verify gate for every sign-in of this process.
    const bruteForce = new BruteForceGuard(pool, DEFAULT_BRUTE_FORCE_POLICY, now);
    const secondFactor = new SecondFactor({
      pool,
      box,
      bruteForce,
      metrics,
      requiredRoles: env.LOCK_MFA_REQUIRED_ROLES,
      clientRequiresMfa: (clientId) => runtime.state.catalog.clients.get(clientId)?.requireMfa ?? false,
      passkeyRequiredRoles: env.LOCK_PASSKEY_REQUIRED_ROLES ?? [],
      clientRequiresPasskey: (clientId) =>
        runtime.state.catalog.clients.get(clientId)?.requirePasskey ?? false,
      now,
    });
    // Passkeys (docs/passkeys.md): the relying party is the issuer (its host, its origin).
    const passkeys = new PasskeySignIn({
      pool,
      rp: relyingPartyOf(env.LOCK_ISSUER),
      bruteForce,
      metrics,
      secondFactor,
      now,
    });
    const verifier = new PasswordVerifyGate({
      concurrency: env.LOCK_PASSWORD_VERIFY_CONCURRENCY,
      queue: env.LOCK_PASSWORD_VERIFY_QUEUE,
    });
    const passwordSignIn = new PasswordSignIn({ pool, bruteForce, verifier, metrics, secondFactor });
    // Mail (docs/email.md): off without LOCK_SMTP_URL; sends off the request, bounded.
    const mail = createMail(env, pool, log, now);
    const passkeyRegistration = new PasskeyRegistration({
      pool,
      rp: relyingPartyOf(env.LOCK_ISSUER),
      aaguidAllowlist: env.LOCK_PASSKEY_AAGUIDS ?? [],
      now,
      // The account's verified address hears of every passkey added (docs/email.md).
      onAdded: (owner, passkey) =>
        sendSecurityNotice(mail, owner.userId, 'passkey_added', {
          by: 'self',
          ip: owner.ip,
          passkeyName: passkey.name,
        }),
    });
    // /account: a signed-in person's own password, second factors and sessions (docs/account.md).
    const account = new AccountService({
      issuer: env.LOCK_ISSUER,
      pool,
      box,
      provider: () => runtime.state.provider,
      connectors: () => runtime.state.connectors,
      clientName: (clientId) => runtime.state.catalog.clients.get(clientId)?.name ?? clientId,
      verifier,
      bruteForce,
      limits: { ...ACCOUNT_PAGE_DEFAULTS, reauthSeconds: env.LOCK_ACCOUNT_REAUTH_SECONDS },
      notifyLogout: (notices) => runtime.backchannelLogout.notify(notices),
      mail,
      now,
    });

    const passwordReset =
      mail &&
      new PasswordReset({ mail, pool, notify: (notices) => runtime.backchannelLogout.notify(notices) });
    for (const username of mail ? createdByFile : []) {
      const user = await findUserByUsername(pool, username);
      if (user?.email !== undefined) await sendEmailVerification(mail, user, user.email);
    }
    if (mail)
      closers.push(async () => {
        await passwordReset?.idle();
        await mail.mailer.idle();
        mail.mailer.close();
      });

    const app = createHttpApp({
      issuer: env.LOCK_ISSUER,
      pool,
      runtime,
      log,
      jwksMaxAge: env.LOCK_JWKS_MAX_AGE,
      trustProxy: env.LOCK_TRUST_PROXY,
      box,
      csrfKey: deriveKey(kek.key, 'interaction csrf v1'),
      passwordSignIn,
      secondFactor,
      passkeys,
      passkeyRegistration,
      account,
      now,
      crossCutting,
      metrics,
      metricsToken: env.LOCK_METRICS_TOKEN,
      mail: mail && passwordReset && { mail, passwordReset },
      docsUrl: env.LOCK_DOCS_URL,
    });
    let server: Server | undefined;

    return {
      database,
      runtime,
      box,
      maintainKeys,
      async listen(port, host) {
        server =
          env.LOCK_TLS_CERT && env.LOCK_TLS_KEY
            ? createHttpsServer(
                {
                  IncomingMessage: EdgeRequest,
                  cert: await readFile(env.LOCK_TLS_CERT),
                  key: await readFile(env.LOCK_TLS_KEY),
                  minVersion: 'TLSv1.2',
                },
                app,
              )
            : createHttpServer({ IncomingMessage: EdgeRequest }, app);
        server.listen({ port, host });
        server.keepAliveTimeout = 65_000;
        server.headersTimeout = 66_000;
        server.requestTimeout = 30_000;
        try {
          await once(server, 'listening');
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
            throw new Error(`port ${port} is in use: stop what holds it or set PORT to another port`, {
              cause: error,
            });
          throw error;
        }
        return (server.address() as AddressInfo).port;
      },
      async close() {
        if (server) {
          const closed = once(server, 'close');
          server.close();
          server.closeIdleConnections();
          const forced = setTimeout(() => server?.closeAllConnections(), 10_000).unref();
          await closed;
          clearTimeout(forced);
        }
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
