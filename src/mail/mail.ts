import type pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import { type Locale, localeOf } from '../web/i18n.ts';
import { Mailer } from './mailer.ts';

/** Lock's mail features, as the composition root builds them when LOCK_SMTP_URL is set. */
export interface Mail {
  mailer: Mailer;
  pool: pg.Pool;
  log: Logger;
  now: () => Date;
  /** Links in mails start with it (LOCK_ISSUER). */
  issuer: string;
  resetTtlSeconds: number;
  verificationTtlSeconds: number;
  resetMailsPerHour: number;
  /** The language of mails sent without a request to take one from (LOCK_DEFAULT_LOCALE). */
  defaultLocale: Locale;
}

export interface MailEnv {
  LOCK_SMTP_URL?: string | undefined;
  LOCK_MAIL_FROM?: string | undefined;
  LOCK_ISSUER: string;
  LOCK_PASSWORD_RESET_TTL: number;
  LOCK_EMAIL_VERIFICATION_TTL: number;
  LOCK_PASSWORD_RESET_MAILS_PER_HOUR: number;
  LOCK_DEFAULT_LOCALE: string;
}

/** The mail features, or undefined (off) without LOCK_SMTP_URL and LOCK_MAIL_FROM. */
export function createMail(env: MailEnv, pool: pg.Pool, log: Logger, now: () => Date): Mail | undefined {
  if (env.LOCK_SMTP_URL === undefined || env.LOCK_MAIL_FROM === undefined) return undefined;
  return {
    mailer: new Mailer({ smtpUrl: env.LOCK_SMTP_URL, from: env.LOCK_MAIL_FROM, pool, log }),
    pool,
    log,
    now,
    issuer: env.LOCK_ISSUER,
    resetTtlSeconds: env.LOCK_PASSWORD_RESET_TTL,
    verificationTtlSeconds: env.LOCK_EMAIL_VERIFICATION_TTL,
    resetMailsPerHour: env.LOCK_PASSWORD_RESET_MAILS_PER_HOUR,
    defaultLocale: localeOf(env.LOCK_DEFAULT_LOCALE),
  };
}
