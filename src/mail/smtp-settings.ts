import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { MAIL_DELIVERY } from '../config/defaults.ts';

/**
 * nodemailer's options from LOCK_SMTP_URL: smtps:// is TLS from the first byte (port 465 by
 * default), smtp:// upgrades with STARTTLS when the server offers it (port 587 by default). The
 * credentials go into `auth` and nowhere else: this URL is never logged.
 */
export function smtpTransportOptions(smtpUrl: string): SMTPTransport.Options {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  const username = decodeURIComponent(url.username);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    ...(username !== '' && { auth: { user: username, pass: decodeURIComponent(url.password) } }),
    connectionTimeout: MAIL_DELIVERY.connectionTimeoutMs,
    greetingTimeout: MAIL_DELIVERY.greetingTimeoutMs,
    socketTimeout: MAIL_DELIVERY.socketTimeoutMs,
    tls: { minVersion: 'TLSv1.2' },
    // nodemailer's own logger would write the SMTP dialogue (AUTH included): never.
    logger: false,
    debug: false,
  };
}

/** What a log may say about the server: its host and port, never the credentials. */
export function smtpServerName(smtpUrl: string): string {
  const url = new URL(smtpUrl);
  return `${url.protocol}//${url.host}`;
}
