import { recordAuditEvent } from '../audit/audit.ts';
import { insertEmailLink, peekEmailLink, takeEmailLink } from '../store/email-links.ts';
import { findUserById, markEmailVerified, replaceWithVerifiedEmail } from '../store/users.ts';
import { linkTokenHash, newLinkToken } from './link-tokens.ts';
import type { Mail } from './mail.ts';
import { renderMail, verifyEmailMail } from './messages.ts';
import { mailSecurityNotice } from './security-notice.ts';

/** The path of a verification link; `/verify-email/<token>` shows a button that POSTs it. */
export const VERIFY_EMAIL_PATH = '/verify-email';

const PURPOSES = ['verify_email', 'change_email'] as const;

/**
 * Mails `address` a single-use link that verifies it for the account (`change`: and then makes it
 * the account's email, which stays as it is until then). Only the link's hash is stored; it
 * expires after LOCK_EMAIL_VERIFICATION_TTL. Never throws: a failure is logged.
 */
export async function sendEmailVerification(
  mail: Mail | undefined,
  user: { id: string; username: string },
  address: string,
  options: { change?: boolean; actor?: string } = {},
): Promise<void> {
  if (!mail) return;
  try {
    const purpose = options.change ? 'change_email' : 'verify_email';
    const { token, hash } = newLinkToken();
    const now = mail.now();
    await insertEmailLink(mail.pool, {
      tokenHash: hash,
      purpose,
      userId: user.id,
      address,
      createdAt: now,
      expiresAt: new Date(now.getTime() + mail.verificationTtlSeconds * 1000),
    });
    const { t } = mail.defaultLocale;
    const content = verifyEmailMail(t, {
      username: user.username,
      url: `${mail.issuer}${VERIFY_EMAIL_PATH}/${token}`,
      hours: Math.round(mail.verificationTtlSeconds / 3600),
      change: options.change === true,
    });
    mail.mailer.send(
      { to: address, ...renderMail(t, content) },
      { kind: purpose, userId: user.id, username: user.username },
    );
    await recordAuditEvent(mail.pool, {
      type: 'account.email.verification_sent',
      outcome: 'success',
      actor: options.actor ?? 'lock',
      subject: user.username,
      details: { id: user.id, change: options.change === true },
    });
  } catch (error) {
    mail.log.warn({ err: error, userId: user.id }, 'an email verification could not be sent');
  }
}

/** Whether the token is a verification link that may still be used (the page that shows its button). */
export async function verificationLinkUsable(mail: Mail, token: string): Promise<boolean> {
  const hash = linkTokenHash(token);
  return (
    hash !== undefined && (await peekEmailLink(mail.pool, hash, [...PURPOSES], mail.now())) !== undefined
  );
}

/**
 * Takes the link once and verifies its address: `verified`, or `refused` when the link is
 * unknown, used, expired, or names an address the account no longer has.
 */
export async function confirmEmail(
  mail: Mail,
  token: string,
  request: { ip?: string; userAgent?: string; requestId?: string },
): Promise<'verified' | 'refused'> {
  const hash = linkTokenHash(token);
  if (!hash) return 'refused';
  const now = mail.now();
  const link = await takeEmailLink(mail.pool, hash, [...PURPOSES], now);
  if (!link?.address) return 'refused';
  const user = await findUserById(mail.pool, link.userId);
  if (!user) return 'refused';
  const change = link.purpose === 'change_email';
  const done = change
    ? await replaceWithVerifiedEmail(mail.pool, user.id, link.address, now)
    : await markEmailVerified(mail.pool, user.id, link.address, now);
  await recordAuditEvent(mail.pool, {
    type: change ? 'account.email.changed' : 'account.email.verified',
    outcome: done ? 'success' : 'failure',
    subject: user.username,
    ...(!done && { reason: 'the account has another address now' }),
    ...request,
    details: { id: user.id },
  });
  // The address it was before hears of the change, if it was verified: a stolen session cannot
  // move the account's mail away unnoticed.
  if (
    done &&
    change &&
    user.email &&
    user.emailVerified &&
    user.email.toLowerCase() !== link.address.toLowerCase()
  )
    mailSecurityNotice(mail, user, user.email, 'email_changed', { toOldAddress: true });
  return done ? 'verified' : 'refused';
}
