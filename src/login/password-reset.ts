import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import { MAIL_DELIVERY } from '../config/defaults.ts';
import { linkTokenHash, newLinkToken, passwordBinding, sameBinding } from '../mail/link-tokens.ts';
import type { Mail } from '../mail/mail.ts';
import { passwordResetMail, renderMail } from '../mail/messages.ts';
import { sendSecurityNotice } from '../mail/security-notice.ts';
import type { LogoutNotice } from '../oidc/backchannel-logout.ts';
import { endAccountSessions } from '../oidc/end-account-sessions.ts';
import { checkPasswordPolicy, hashPassword } from '../security/passwords.ts';
import {
  countRecentEmailLinks,
  insertEmailLink,
  peekEmailLink,
  retireEmailLinks,
  takeEmailLink,
} from '../store/email-links.ts';
import { subsOfUpstream } from '../store/identities.ts';
import { tx } from '../store/pool.ts';
import {
  findCredentialsById,
  findResetCandidates,
  LOCAL_CONNECTOR_ID,
  lockCredentialsById,
  setPasswordHash,
} from '../store/users.ts';
import type { Locale } from '../web/i18n.ts';

/** Where the request form lives; a link is `<issuer>/reset/<token>`. */
export const PASSWORD_RESET_PATH = '/reset';

export interface ResetRequestContext {
  ip?: string;
  userAgent?: string;
  requestId?: string;
}

export type ResetOutcome =
  | { status: 'reset'; username: string }
  | { status: 'refused' }
  | { status: 'weak'; reason: string };

export interface PasswordResetOptions {
  mail: Mail;
  pool: pg.Pool;
  /** Hands back-channel logout notices to the runtime once the reset has committed. */
  notify: (notices: LogoutNotice[]) => void;
}

/**
 * Password reset by a mailed link, for local accounts (docs/email.md):
 * - `request` answers nothing: it queues the lookup and the mail off the request, so that the page
 *   says the same, at the same speed, whether the name or address is an account's or not;
 * - a link is single-use, expires after LOCK_PASSWORD_RESET_TTL, is stored only as its hash, and is
 *   bound to the password it replaces (any change of the password kills it);
 * - at most LOCK_PASSWORD_RESET_MAILS_PER_HOUR mails per account;
 * - `complete` takes the link once (of concurrent posts, one wins), sets the password, ends every
 *   session and refresh token of the account, audits, and mails a security notice.
 */
export class PasswordReset {
  readonly #mail: Mail;
  readonly #pool: pg.Pool;
  readonly #notify: (notices: LogoutNotice[]) => void;
  readonly #waiting: Array<() => Promise<void>> = [];
  #running = 0;
  readonly #idle = new Set<() => void>();

  constructor(options: PasswordResetOptions) {
    this.#mail = options.mail;
    this.#pool = options.pool;
    this.#notify = options.notify;
  }

  /** Queues the request's work (bounded: beyond the queue it is dropped and logged) and returns at once. */
  request(identifier: string, context: ResetRequestContext, locale: Locale): void {
    if (this.#running + this.#waiting.length >= MAIL_DELIVERY.queueLimit) {
      this.#mail.log.warn('password-reset requests are arriving faster than they are handled: one dropped');
      return;
    }
    this.#waiting.push(() => this.#handleRequest(identifier, context, locale));
    this.#pump();
  }

  /** Resolves when every queued request has been handled (tests; a clean shutdown). */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  /** Whether the link may still set a password (the page that shows its form): unused, unexpired, bound to the current password. */
  async linkUsable(token: string): Promise<boolean> {
    const hash = linkTokenHash(token);
    if (!hash) return false;
    const link = await peekEmailLink(this.#pool, hash, ['password_reset'], this.#mail.now());
    if (!link?.boundTo) return false;
    const credentials = await findCredentialsById(this.#pool, link.userId);
    return (
      credentials?.passwordHash != null &&
      !credentials.user.disabled &&
      sameBinding(link.boundTo, passwordBinding(credentials.passwordHash))
    );
  }

  async complete(token: string, password: string, context: ResetRequestContext): Promise<ResetOutcome> {
    const hash = linkTokenHash(token);
    if (!hash) return { status: 'refused' };
    // Checked before the link is taken: a password the policy refuses leaves the link usable.
    const policy = checkPasswordPolicy(password);
    if (!policy.ok) return { status: 'weak', reason: policy.reason };
    const newHash = await hashPassword(password);
    const now = this.#mail.now();
    const outcome = await tx(this.#pool, async (db) => {
      const link = await takeEmailLink(db, hash, ['password_reset'], now);
      if (!link?.boundTo) return undefined;
      const credentials = await lockCredentialsById(db, link.userId);
      const fail = async (reason: string) => {
        await recordAuditEvent(db, {
          type: 'account.password.reset',
          outcome: 'failure',
          subject: credentials?.user.username ?? link.userId,
          connector: LOCAL_CONNECTOR_ID,
          reason,
          ...context,
        });
        return undefined;
      };
      if (!credentials) return undefined;
      if (
        credentials.passwordHash === null ||
        !sameBinding(link.boundTo, passwordBinding(credentials.passwordHash))
      )
        return fail('the password changed after the link was sent');
      if (credentials.user.disabled) return fail('disabled');
      const { user } = credentials;
      await setPasswordHash(db, user.id, newHash);
      await retireEmailLinks(db, user.id, ['password_reset'], now);
      const { count, notices } = await endAccountSessions(
        db,
        await subsOfUpstream(db, LOCAL_CONNECTOR_ID, user.id),
        'account.password_reset',
      );
      await recordAuditEvent(db, {
        type: 'account.password.reset',
        outcome: 'success',
        actor: user.username,
        subject: user.username,
        connector: LOCAL_CONNECTOR_ID,
        ...context,
        details: { id: user.id, endedSessions: count },
      });
      return { user, notices };
    });
    if (!outcome) return { status: 'refused' };
    this.#notify(outcome.notices);
    await sendSecurityNotice(this.#mail, outcome.user.id, 'password_reset', {
      ...(context.ip !== undefined && { ip: context.ip }),
    });
    return { status: 'reset', username: outcome.user.username };
  }

  #pump(): void {
    while (this.#running < MAIL_DELIVERY.resetWorkConcurrency && this.#waiting.length > 0) {
      const work = this.#waiting.shift()!;
      this.#running++;
      void work()
        .catch((error) => this.#mail.log.warn({ err: error }, 'a password-reset request failed'))
        .finally(() => {
          this.#running--;
          this.#pump();
          if (this.#running === 0 && this.#waiting.length === 0) {
            for (const resolve of this.#idle) resolve();
            this.#idle.clear();
          }
        });
    }
  }

  /** The mail speaks the language of the page where the reset was asked. */
  async #handleRequest(identifier: string, context: ResetRequestContext, locale: Locale): Promise<void> {
    const candidates = await findResetCandidates(
      this.#pool,
      identifier,
      MAIL_DELIVERY.accountsPerResetRequest,
    );
    const eligible = candidates.filter(
      (candidate) => candidate.passwordHash !== null && !candidate.user.disabled && candidate.user.email,
    );
    if (eligible.length === 0) {
      await recordAuditEvent(this.#pool, {
        type: 'account.password.reset_requested',
        outcome: 'failure',
        subject: candidates[0]?.user.username ?? identifier,
        connector: LOCAL_CONNECTOR_ID,
        reason: candidates.length === 0 ? 'unknown' : 'no address, no password or disabled',
        ...context,
      });
      return;
    }
    for (const { user } of eligible) {
      const now = this.#mail.now();
      // Counted and stored under the account's row lock: concurrent requests cannot both pass the limit.
      const issued = await tx(this.#pool, async (db) => {
        const credentials = await lockCredentialsById(db, user.id);
        if (!credentials?.passwordHash) return undefined;
        const recent = await countRecentEmailLinks(
          db,
          user.id,
          'password_reset',
          new Date(now.getTime() - 3_600_000),
        );
        if (recent >= this.#mail.resetMailsPerHour) {
          await recordAuditEvent(db, {
            type: 'account.password.reset_requested',
            outcome: 'failure',
            subject: user.username,
            connector: LOCAL_CONNECTOR_ID,
            reason: 'rate_limited',
            ...context,
            details: { id: user.id, mailsThisHour: recent },
          });
          return undefined;
        }
        const { token, hash } = newLinkToken();
        await insertEmailLink(db, {
          tokenHash: hash,
          purpose: 'password_reset',
          userId: user.id,
          boundTo: passwordBinding(credentials.passwordHash),
          createdAt: now,
          expiresAt: new Date(now.getTime() + this.#mail.resetTtlSeconds * 1000),
        });
        return token;
      });
      if (issued === undefined) continue;
      const token = issued;
      const content = passwordResetMail(locale.t, {
        username: user.username,
        url: `${this.#mail.issuer}${PASSWORD_RESET_PATH}/${token}`,
        minutes: Math.round(this.#mail.resetTtlSeconds / 60),
      });
      this.#mail.mailer.send(
        { to: user.email!, ...renderMail(locale.t, content) },
        { kind: 'password_reset', userId: user.id, username: user.username },
      );
      await recordAuditEvent(this.#pool, {
        type: 'account.password.reset_requested',
        outcome: 'success',
        subject: user.username,
        connector: LOCAL_CONNECTOR_ID,
        ...context,
        details: { id: user.id },
      });
    }
  }
}
