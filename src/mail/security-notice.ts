import { findUserById } from '../store/users.ts';
import type { Mail } from './mail.ts';
import {
  renderMail,
  type SecurityNoticeDetails,
  type SecurityNoticeKind,
  securityNoticeMail,
} from './messages.ts';

export type { SecurityNoticeDetails, SecurityNoticeKind };

/**
 * Tells a person of a security event on their account (password changed or reset, passkey added,
 * TOTP removed, email changed) by a mail to the account's *verified* address, in
 * LOCK_DEFAULT_LOCALE; an account without a verified address gets nothing. Call it after the
 * change has committed: it never throws and never waits for the SMTP server (`mail` undefined —
 * mail off — does nothing). See docs/email.md.
 */
export async function sendSecurityNotice(
  mail: Mail | undefined,
  accountId: string,
  kind: SecurityNoticeKind,
  details: SecurityNoticeDetails = {},
): Promise<void> {
  if (!mail) return;
  try {
    const user = await findUserById(mail.pool, accountId);
    if (!user?.email || !user.emailVerified) return;
    mailSecurityNotice(mail, user, user.email, kind, details);
  } catch (error) {
    mail.log.warn({ err: error, userId: accountId, notice: kind }, 'a security notice could not be prepared');
  }
}

/** Queues the notice to `address` (the caller checked that it is the account's verified one). */
export function mailSecurityNotice(
  mail: Mail,
  user: { id: string; username: string },
  address: string,
  kind: SecurityNoticeKind,
  details: SecurityNoticeDetails,
): void {
  const { t } = mail.defaultLocale;
  const content = securityNoticeMail(t, { username: user.username, kind, at: mail.now(), details });
  mail.mailer.send(
    { to: address, ...renderMail(t, content) },
    { kind: `security_notice.${kind}`, userId: user.id, username: user.username },
  );
}
