// The second step of a local account's sign-in: after the right password, a TOTP code (or a
// recovery code), or first the enrolment of an authenticator app. The state between the steps
// lives in PostgreSQL, keyed by the interaction and bound to the account whose password was right,
// so any Lock process can serve the next page and no later request can change whose sign-in it is.
import type Router from '@koa/router';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type pg from 'pg';
import { toString as renderQrCode } from 'qrcode';
import { recordAuditEvent } from '../audit/audit.ts';
import type { ConnectorInfo, UpstreamIdentity } from '../connectors/connector.ts';
import { readForm } from '../http/form-body.ts';
import type { LockState } from '../http/middleware.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { BruteForceGuard } from '../security/brute-force.ts';
import type { SecretBox } from '../security/secret-box.ts';
import {
  generateRecoveryCodes,
  generateTotpSecret,
  hashRecoveryCode,
  matchingTotpSteps,
  otpauthUri,
  parseRecoveryCode,
  parseTotpCode,
  totpSecretContext,
} from '../security/totp.ts';
import { tx } from '../store/pool.ts';
import {
  acceptTotpStep,
  advancePendingStage,
  consumePendingSecondFactor,
  countUnusedRecoveryCodes,
  findPendingSecondFactor,
  findTotpCredential,
  insertTotpCredential,
  type PendingKey,
  type PendingSecondFactor,
  replaceRecoveryCodes,
  reservePendingAttempt,
  startPendingSecondFactor,
  useRecoveryCode,
} from '../store/totp.ts';
import type { createCsrf } from './csrf.ts';
import { sendErrorPage } from './error-page.ts';
import { contentSecurityPolicy, renderView } from './views.ts';

/** What Lock's configuration decides about second factors. */
export interface SecondFactorSettings {
  box: SecretBox;
  /** Local accounts holding one of these roles must use TOTP, enrolling at their next sign-in. */
  requiredRoles: readonly string[];
  /** Whether a client requires a second factor of everyone signing in to it (`requireMfa`). */
  clientRequiresMfa: (clientId: string) => boolean;
  now: () => Date;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;
type Context = Koa.ParameterizedContext<LockState>;

export interface SecondFactorStepOptions extends SecondFactorSettings {
  pool: pg.Pool;
  bruteForce: BruteForceGuard;
  metrics: Metrics;
  csrf: ReturnType<typeof createCsrf>;
  details: (ctx: Context) => Promise<Details>;
  finish: (ctx: Context, result: InteractionResults) => Promise<void>;
  showLogin: (ctx: Context, found: Details, extra: { username?: string; error?: string }) => void;
}

/** How long a sign-in may wait between its password and its second factor (enrolment included). */
const PENDING_TTL_MS = 15 * 60_000;
/** Wrong codes one sign-in may try before its password must be typed again. */
const MAX_CODE_FAILURES = 5;
/** RFC 8176: a password, then a one-time password (an app code or a recovery code). */
const AMR_WITH_OTP = ['pwd', 'otp'];

// Replayed, wrong and locked-out codes all read the same.
const WRONG_CODE = 'That code is not right. Check your app and try again.';

type CodeCheck = { ok: true; method: 'totp' | 'recovery_code' } | { ok: false; reason: string };

/** The row's identity for a conditional change: this interaction, this account, the stage seen. */
const keyOf = (pending: PendingSecondFactor): PendingKey => ({
  interactionUid: pending.interactionUid,
  userId: pending.userId,
  sub: pending.sub,
  stage: pending.stage,
});

/** A change of the step raced with another request of the interaction and lost: nothing is kept. */
class PendingChanged extends Error {
  override name = 'PendingChanged';
}

export function secondFactorStep(options: SecondFactorStepOptions) {
  const { pool, box, csrf } = options;
  const stepPath = (uid: string) => `/interaction/${uid}/totp`;
  // The step's forms carry a token bound to the interaction and the account: a form shown for one
  // account's step is refused once the interaction waits for another's.
  const csrfSubject = (pending: PendingSecondFactor) =>
    `${pending.interactionUid}:second-factor:${pending.userId}`;

  const toLogin = (ctx: Context, uid: string) => {
    ctx.status = 303;
    ctx.redirect(`/interaction/${uid}`);
  };

  /** The interaction and its waiting second factor; undefined (and a redirect to the login page) when none waits. */
  async function waiting(
    ctx: Context,
    form?: URLSearchParams,
  ): Promise<{ found: Details; pending: PendingSecondFactor } | undefined> {
    const found = await options.details(ctx);
    if (found.prompt.name !== 'login') ctx.throw(400, 'not waiting for a login');
    const pending = await findPendingSecondFactor(pool, found.uid, options.now());
    if (!pending) {
      toLogin(ctx, found.uid);
      return undefined;
    }
    if (form && !csrf.isValid(csrfSubject(pending), form.get('csrf'))) {
      sendErrorPage(ctx, {
        status: 403,
        title: 'This sign-in form has expired',
        message: 'Go back to the application and start signing in again.',
        requestId: ctx.state.requestId,
      });
      return undefined;
    }
    return { found, pending };
  }

  async function show(
    ctx: Context,
    found: Details,
    pending: PendingSecondFactor,
    extra: { error?: string; codes?: string[] } = {},
  ): Promise<void> {
    const csrfToken = csrf.tokenFor(csrfSubject(pending));
    const restartHref = `${stepPath(found.uid)}/restart?csrf=${encodeURIComponent(csrfToken)}`;
    const common = {
      formAction: stepPath(found.uid),
      csrfToken,
      ...(extra.error !== undefined && { error: extra.error }),
    };
    let body: string;
    if (pending.stage === 'enrol') {
      const secret = box.open(pending.enrolSecretSealed!, totpSecretContext(pending.userId));
      const uri = otpauthUri(secret, pending.username);
      const svg = await renderQrCode(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      body = renderView('totp-enrol', {
        ...common,
        username: pending.username,
        qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
        secret,
        otpauthUri: uri,
        restartHref,
      });
    } else if (pending.stage === 'verify') {
      body = renderView('totp-verify', {
        ...common,
        username: pending.username,
        restartHref,
      });
    } else {
      body = renderView('totp-recovery-codes', {
        codes: extra.codes ?? [],
        formAction: `${stepPath(found.uid)}/continue`,
        csrfToken: common.csrfToken,
      });
    }
    // These forms end in a redirect to the client: its origin must be a form-action.
    const redirectUri = found.params.redirect_uri;
    ctx.set(
      'Content-Security-Policy',
      contentSecurityPolicy(typeof redirectUri === 'string' ? [redirectUri] : []),
    );
    ctx.type = 'html';
    ctx.body = body;
  }

  const auditBase = (ctx: Context, found: Details, pending: PendingSecondFactor) => ({
    subject: pending.username,
    connector: pending.connector,
    clientId: String(found.params.client_id),
    ip: ctx.ip,
    userAgent: ctx.get('user-agent'),
    requestId: ctx.state.requestId,
  });

  async function signedIn(ctx: Context, found: Details, seen: PendingSecondFactor): Promise<void> {
    // Only one of two racing submissions consumes the row, and only while it still holds the
    // account and stage this request checked: the account signed in is the one consumed.
    const pending = await consumePendingSecondFactor(pool, keyOf(seen), options.now());
    if (!pending) return toLogin(ctx, found.uid);
    await options.bruteForce.recordSuccess({
      username: pending.username,
      account: { connector: pending.connector, upstreamId: pending.userId, username: pending.username },
      address: ctx.ip,
    });
    options.metrics.logins.inc({ connector: pending.connector, outcome: 'success' });
    await options.finish(ctx, { login: { accountId: pending.sub, amr: AMR_WITH_OTP, remember: true } });
  }

  async function checkCode(userId: string, input: string): Promise<CodeCheck> {
    const now = options.now();
    const code = parseTotpCode(input);
    if (code !== undefined) {
      const credential = await findTotpCredential(pool, userId);
      if (!credential) return { ok: false, reason: 'no authenticator enrolled (reset during the sign-in)' };
      const secret = box.open(credential.secretSealed, totpSecretContext(userId));
      const steps = matchingTotpSteps(secret, code, now);
      if (steps.length === 0) return { ok: false, reason: 'wrong code' };
      const fresh = steps.filter((step) => step > credential.lastUsedStep);
      if (fresh.length === 0 || !(await acceptTotpStep(pool, userId, fresh[0]!)))
        return { ok: false, reason: 'code of an already used time step (replay)' };
      return { ok: true, method: 'totp' };
    }
    const recovery = parseRecoveryCode(input);
    if (recovery !== undefined)
      return (await useRecoveryCode(pool, userId, hashRecoveryCode(userId, recovery), now))
        ? { ok: true, method: 'recovery_code' }
        : { ok: false, reason: 'unknown or already used recovery code' };
    return { ok: false, reason: 'not a code' };
  }

  async function verify(ctx: Context, found: Details, pending: PendingSecondFactor, input: string) {
    // Reserved before the code is looked at, so concurrent guesses cannot outrun the budget.
    const lockout = await options.bruteForce.reserveForAccount({
      username: pending.username,
      address: ctx.ip,
      account: { connector: pending.connector, upstreamId: pending.userId, username: pending.username },
    });
    const locked = !lockout.admitted;
    // The step's own budget is reserved first too: the attempt that passes it is the last one checked.
    const attempts = await reservePendingAttempt(pool, keyOf(pending));
    // The step ended or changed meanwhile (another request of this interaction): start again from it.
    if (attempts === undefined) return toLogin(ctx, found.uid);
    // A locked-out account is told what a wrong code is told, and its code is not even looked at.
    const check: CodeCheck = !lockout.admitted
      ? { ok: false, reason: `${lockout.scope} locked out after repeated attempts` }
      : attempts > MAX_CODE_FAILURES
        ? { ok: false, reason: 'too many codes tried in this sign-in' }
        : await checkCode(pending.userId, input);
    const audit = auditBase(ctx, found, pending);
    if (check.ok) {
      await recordAuditEvent(pool, {
        ...audit,
        type: 'login.totp',
        outcome: 'success',
        actor: pending.sub,
        details: {
          method: check.method,
          ...(check.method === 'recovery_code' && {
            recoveryCodesLeft: await countUnusedRecoveryCodes(pool, pending.userId),
          }),
        },
      });
      return signedIn(ctx, found, pending);
    }
    await recordAuditEvent(pool, {
      ...audit,
      type: locked ? 'login.locked_out' : 'login.totp',
      outcome: 'failure',
      reason: check.reason,
    });
    options.metrics.logins.inc({
      connector: pending.connector,
      outcome: locked ? 'locked_out' : 'failed',
    });
    ctx.status = 401;
    if (attempts >= MAX_CODE_FAILURES) {
      await consumePendingSecondFactor(pool, keyOf(pending), options.now());
      return options.showLogin(ctx, found, {
        username: pending.username,
        error: 'Too many incorrect codes. Sign in again.',
      });
    }
    return show(ctx, found, pending, { error: WRONG_CODE });
  }

  async function confirmEnrolment(ctx: Context, found: Details, pending: PendingSecondFactor, input: string) {
    const sealed = pending.enrolSecretSealed!;
    const code = parseTotpCode(input);
    const steps =
      code === undefined
        ? []
        : matchingTotpSteps(box.open(sealed, totpSecretContext(pending.userId)), code, options.now());
    const audit = auditBase(ctx, found, pending);
    if (steps.length === 0) {
      // Not a brute-force failure: whoever is here was shown the secret; a typo must not lock them out.
      await recordAuditEvent(pool, {
        ...audit,
        type: 'login.totp_enrol',
        outcome: 'failure',
        reason: code === undefined ? 'not a code' : 'wrong code',
      });
      ctx.status = 400;
      return show(ctx, found, pending, { error: WRONG_CODE });
    }
    const codes = generateRecoveryCodes();
    const key = keyOf(pending);
    const outcome = await tx(pool, async (db) => {
      const inserted = await insertTotpCredential(db, {
        userId: pending.userId,
        secretSealed: sealed,
        lastUsedStep: steps[0]!,
        confirmedAt: options.now(),
      });
      if (!inserted) return 'enrolled elsewhere' as const;
      // Still this account's enrolment in this interaction? Otherwise nothing of it is kept.
      if (!(await advancePendingStage(db, key, 'recovery-codes'))) throw new PendingChanged();
      await replaceRecoveryCodes(
        db,
        pending.userId,
        codes.map((recovery) => hashRecoveryCode(pending.userId, recovery)),
      );
      await recordAuditEvent(db, {
        ...audit,
        type: 'login.totp_enrol',
        outcome: 'success',
        actor: pending.sub,
      });
      return 'enrolled' as const;
    }).catch((error: unknown) => {
      if (error instanceof PendingChanged) return 'step changed' as const;
      throw error;
    });
    if (outcome === 'step changed') {
      ctx.status = 303;
      return ctx.redirect(stepPath(found.uid));
    }
    if (outcome === 'enrolled elsewhere') {
      // Another sign-in of this account enrolled first: that authenticator is the one to use.
      if (!(await advancePendingStage(pool, key, 'verify'))) {
        ctx.status = 303;
        return ctx.redirect(stepPath(found.uid));
      }
      ctx.status = 409;
      return show(
        ctx,
        found,
        { ...pending, stage: 'verify' },
        { error: 'Two-step sign-in was just set up for this account elsewhere. Enter a code from that app.' },
      );
    }
    return show(ctx, found, { ...pending, stage: 'recovery-codes' }, { codes });
  }

  async function refuseWhilePending(ctx: Context, found: Details): Promise<boolean> {
    const pending = await findPendingSecondFactor(pool, found.uid, options.now());
    if (!pending) return false;
    ctx.status = 409;
    await show(ctx, found, pending, {
      error: `This sign-in is waiting for the second step of ${pending.username}. Finish it, or choose “Sign in as someone else”.`,
    });
    return true;
  }

  return {
    /**
     * After the right password: when the account must use a second factor, starts that step
     * (the browser is sent to its page) and returns true; otherwise returns false.
     */
    async begin(
      ctx: Context,
      found: Details,
      login: { connector: ConnectorInfo; identity: UpstreamIdentity; sub: string },
    ): Promise<boolean> {
      if (login.connector.type !== 'local') return false;
      const userId = login.identity.upstreamId;
      const enrolled = (await findTotpCredential(pool, userId)) !== undefined;
      const required =
        enrolled ||
        options.clientRequiresMfa(String(found.params.client_id)) ||
        (login.identity.roles ?? []).some((role) => options.requiredRoles.includes(role));
      if (!required) return false;
      const now = options.now();
      const started = await startPendingSecondFactor(
        pool,
        {
          interactionUid: found.uid,
          userId,
          sub: login.sub,
          connector: login.connector.id,
          username: login.identity.username,
          stage: enrolled ? 'verify' : 'enrol',
          ...(!enrolled && { enrolSecretSealed: box.seal(generateTotpSecret(), totpSecretContext(userId)) }),
          expiresAt: new Date(now.getTime() + PENDING_TTL_MS),
        },
        now,
      );
      // A step of another password of this interaction got there first (two posts racing): it stays.
      // Handled either way (true): this password never finishes a sign-in that needs a second factor.
      if (!started) {
        if (!(await refuseWhilePending(ctx, found))) toLogin(ctx, found.uid);
        return true;
      }
      ctx.status = 303;
      ctx.redirect(stepPath(found.uid));
      return true;
    },

    /**
     * Called first by the login form's POST: while a second factor waits in this interaction, no
     * password is taken (it would not change whose sign-in this is); the person is shown the
     * waiting step and its "Sign in as someone else", which ends it. True when refused.
     */
    passwordRefusedWhilePending: refuseWhilePending,

    /** GET/POST /totp and POST /totp/continue on the interaction router. */
    register(router: Router<LockState>): void {
      router.get('/totp', async (ctx) => {
        const step = await waiting(ctx);
        if (step) await show(ctx, step.found, step.pending);
      });

      router.post('/totp', async (ctx) => {
        const form = await readForm(ctx);
        const step = await waiting(ctx, form);
        if (!step) return;
        const { found, pending } = step;
        const input = (form.get('code') ?? '').trim().slice(0, 64);
        if (pending.stage === 'recovery-codes') return show(ctx, found, pending);
        if (input === '') {
          ctx.status = 400;
          return show(ctx, found, pending, { error: 'Enter the code.' });
        }
        if (pending.stage === 'enrol') return confirmEnrolment(ctx, found, pending, input);
        return verify(ctx, found, pending, input);
      });

      router.post('/totp/continue', async (ctx) => {
        const form = await readForm(ctx);
        const step = await waiting(ctx, form);
        if (!step) return;
        if (step.pending.stage !== 'recovery-codes') {
          ctx.status = 303;
          return ctx.redirect(stepPath(step.found.uid));
        }
        await signedIn(ctx, step.found, step.pending);
      });

      // "Sign in as someone else": ends the waiting step (the link carries the step's CSRF token),
      // so that the login form takes a password again.
      router.get('/totp/restart', async (ctx) => {
        const step = await waiting(ctx, new URLSearchParams({ csrf: String(ctx.query.csrf ?? '') }));
        if (!step) return;
        await consumePendingSecondFactor(pool, keyOf(step.pending), options.now());
        toLogin(ctx, step.found.uid);
      });
    },
  };
}
