// The mails Lock sends, each as a subject, paragraphs and at most one link, in the person's
// language (the `mail.*` keys of views/locales/*.json): rendered once as text and once as simple
// HTML (every value escaped). No images, no tracking, nothing remote.
import type { Translate } from '../web/i18n.ts';

export interface MailContent {
  subject: string;
  paragraphs: string[];
  /** The one link of the mail, shown as a button in HTML and on a line of its own in text. */
  action?: { label: string; url: string };
  /** Smaller print below the link. */
  footer: string[];
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function passwordResetMail(
  t: Translate,
  input: { username: string; url: string; minutes: number },
): MailContent {
  return {
    subject: t('mail.password_reset.subject'),
    paragraphs: [
      t('mail.password_reset.intro', { username: input.username }),
      t('mail.password_reset.instructions', { minutes: input.minutes }),
    ],
    action: { label: t('mail.password_reset.action'), url: input.url },
    footer: [t('mail.password_reset.ignore'), t('mail.password_reset.signs_out')],
  };
}

export function verifyEmailMail(
  t: Translate,
  input: { username: string; url: string; hours: number; change: boolean },
): MailContent {
  const kind = input.change ? 'change_email' : 'verify_email';
  return {
    subject: t(`mail.${kind}.subject`),
    paragraphs: [
      t(`mail.${kind}.intro`, { username: input.username }),
      t('mail.verify_email.instructions', { hours: input.hours }),
    ],
    action: { label: t('mail.verify_email.action'), url: input.url },
    footer: [t('mail.verify_email.ignore')],
  };
}

export type SecurityNoticeKind =
  | 'password_changed'
  | 'password_reset'
  | 'passkey_added'
  | 'passkey_removed'
  | 'totp_removed'
  | 'email_changed';

/** What a notice may say about the event besides its kind: never a secret, code or token. */
export interface SecurityNoticeDetails {
  /** Who made the change: an administrator, or the person from /account. */
  by?: 'admin' | 'self';
  /** The address the request came from. */
  ip?: string;
  /** The passkey's name (passkey_added, passkey_removed of one passkey). */
  passkeyName?: string;
  /** The mail goes to the address the account had before (email_changed). */
  toOldAddress?: boolean;
}

export function securityNoticeMail(
  t: Translate,
  input: { username: string; kind: SecurityNoticeKind; at: Date; details: SecurityNoticeDetails },
): MailContent {
  const { details } = input;
  return {
    subject: t(`mail.notice.${input.kind}.subject`),
    paragraphs: [
      t('mail.notice.event', {
        username: input.username,
        time: input.at.toISOString().replace('T', ' ').slice(0, 16),
      }),
      t(`mail.notice.${input.kind}.what`),
      ...(details.passkeyName !== undefined ? [t('mail.notice.passkey', { name: details.passkeyName })] : []),
      ...(details.by === 'admin'
        ? [t('mail.notice.by_admin')]
        : details.by === 'self'
          ? [t('mail.notice.by_you')]
          : []),
      ...(details.ip !== undefined ? [t('mail.notice.from_address', { ip: details.ip })] : []),
      ...(details.toOldAddress ? [t('mail.notice.old_address')] : []),
    ],
    footer: [t('mail.notice.if_you'), t('mail.notice.if_not')],
  };
}

export function renderMail(t: Translate, content: MailContent): RenderedMail {
  const text = [
    ...content.paragraphs,
    ...(content.action ? [`${content.action.label}:\n${content.action.url}`] : []),
    ...content.footer,
    t('mail.signature'),
  ].join('\n\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5; max-width: 36em">',
    ...content.paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    ...(content.action
      ? [
          `<p><a href="${escapeHtml(content.action.url)}" style="display: inline-block; padding: 0.5em 1em; background: #1d4ed8; color: #ffffff; text-decoration: none; border-radius: 4px">${escapeHtml(content.action.label)}</a></p>`,
          `<p style="font-size: 0.9em">${escapeHtml(content.action.url)}</p>`,
        ]
      : []),
    ...content.footer.map((line) => `<p style="font-size: 0.9em; color: #555555">${escapeHtml(line)}</p>`),
    `<p>${escapeHtml(t('mail.signature'))}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject: content.subject, text, html };
}

function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
