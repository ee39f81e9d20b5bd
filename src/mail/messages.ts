// The mails Lock sends, each as a subject, paragraphs and at most one link: rendered once as text
// and once as simple HTML (every value escaped). No images, no tracking, nothing remote.

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

export function passwordResetMail(input: { username: string; url: string; minutes: number }): MailContent {
  return {
    subject: 'Reset your Lock password',
    paragraphs: [
      `Someone asked to reset the password of the Lock account “${input.username}”.`,
      `To choose a new password, open this link within ${input.minutes} minutes. It works once.`,
    ],
    action: { label: 'Choose a new password', url: input.url },
    footer: [
      'If you did not ask for this, ignore this mail: your password stays as it is.',
      'Setting a new password signs you out everywhere.',
    ],
  };
}

export function verifyEmailMail(input: {
  username: string;
  url: string;
  hours: number;
  change: boolean;
}): MailContent {
  return {
    subject: input.change ? 'Confirm your new email address for Lock' : 'Confirm your email address for Lock',
    paragraphs: [
      input.change
        ? `Someone asked to make this the email address of the Lock account “${input.username}”.`
        : `This address was given for the Lock account “${input.username}”.`,
      `To confirm that it is yours, open this link within ${input.hours} hours.`,
    ],
    action: { label: 'Confirm this address', url: input.url },
    footer: ['If this was not you, ignore this mail: nothing changes.'],
  };
}

export type SecurityNoticeKind =
  | 'password_changed'
  | 'password_reset'
  | 'passkey_added'
  | 'totp_removed'
  | 'email_changed';

const NOTICE_TEXT: Record<SecurityNoticeKind, { subject: string; what: string }> = {
  password_changed: { subject: 'Your Lock password was changed', what: 'The password was changed' },
  password_reset: {
    subject: 'Your Lock password was reset',
    what: 'The password was reset with a link mailed to this address, and every session was signed out',
  },
  passkey_added: { subject: 'A passkey was added to your Lock account', what: 'A passkey was added' },
  totp_removed: {
    subject: 'Two-step sign-in was turned off for your Lock account',
    what: 'The authenticator app (two-step sign-in) was removed',
  },
  email_changed: {
    subject: 'The email address of your Lock account was changed',
    what: 'The email address was changed',
  },
};

export function securityNoticeMail(input: {
  username: string;
  kind: SecurityNoticeKind;
  at: Date;
  details: Record<string, string>;
}): MailContent {
  const text = NOTICE_TEXT[input.kind];
  return {
    subject: text.subject,
    paragraphs: [
      `${text.what} on the Lock account “${input.username}” at ${input.at.toISOString().replace('T', ' ').slice(0, 16)} UTC.`,
      ...Object.entries(input.details).map(([name, value]) => `${name}: ${value}`),
    ],
    footer: [
      'If this was you, there is nothing to do.',
      'If it was not, reset your password at once and tell your administrator.',
    ],
  };
}

export function renderMail(content: MailContent): RenderedMail {
  const text = [
    ...content.paragraphs,
    ...(content.action ? [`${content.action.label}:\n${content.action.url}`] : []),
    ...content.footer,
    '— Lock',
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
