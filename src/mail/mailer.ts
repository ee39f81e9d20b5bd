import type { Transporter } from 'nodemailer';
import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import { MAIL_DELIVERY } from '../config/defaults.ts';
import type { Logger } from '../observability/logger.ts';
import { smtpServerName, smtpTransportOptions } from './smtp-settings.ts';

/** One mail: a text part and a simple HTML part, to one address. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** What the log and the audit say about a mail: its kind and account, never the link in it. */
export interface MailContext {
  /** e.g. `password_reset`, `verify_email`, `security_notice.password_changed`. */
  kind: string;
  userId: string;
  username?: string;
}

export interface MailerOptions {
  smtpUrl: string;
  from: string;
  pool: pg.Pool;
  log: Logger;
  delivery?: { concurrency: number; queueLimit: number };
}

/**
 * Sends Lock's mails off the request: `send` queues and returns at once. At most `concurrency`
 * messages are on the wire and `queueLimit` wait; each is tried once, with nodemailer's
 * connection, greeting and socket timeouts (MAIL_DELIVERY). A failure or a full queue is logged
 * (the server's host, never its credentials; the account id, never the address) and audited as
 * `mail.failed`: the person sees the same page either way, and nothing retries forever.
 */
export class Mailer {
  readonly #smtpUrl: string;
  /** nodemailer and its SMTP client are loaded with the first mail, not at start (docs/performance.md). */
  #transport: Promise<Transporter> | undefined;
  readonly #from: string;
  readonly #pool: pg.Pool;
  readonly #log: Logger;
  readonly #server: string;
  readonly #concurrency: number;
  readonly #queueLimit: number;
  readonly #waiting: Array<{ message: MailMessage; context: MailContext }> = [];
  #running = 0;
  readonly #idle = new Set<() => void>();

  constructor(options: MailerOptions) {
    this.#smtpUrl = options.smtpUrl;
    this.#from = options.from;
    this.#pool = options.pool;
    this.#log = options.log;
    this.#server = smtpServerName(options.smtpUrl);
    this.#concurrency = options.delivery?.concurrency ?? MAIL_DELIVERY.concurrency;
    this.#queueLimit = options.delivery?.queueLimit ?? MAIL_DELIVERY.queueLimit;
  }

  /** Queues the message; false when the queue is full (the message is dropped, logged and audited). */
  send(message: MailMessage, context: MailContext): boolean {
    if (this.#running + this.#waiting.length >= this.#queueLimit) {
      void this.#failed(context, { code: 'QUEUE_FULL', message: 'the mail queue is full' });
      return false;
    }
    this.#waiting.push({ message, context });
    this.#pump();
    return true;
  }

  /** Resolves when nothing is queued or sending (tests; a clean shutdown). */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  close(): void {
    this.#waiting.length = 0;
    void this.#transport?.then((transport) => transport.close()).catch(() => {});
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#waiting.length > 0) {
      const next = this.#waiting.shift()!;
      this.#running++;
      void this.#deliver(next.message, next.context).finally(() => {
        this.#running--;
        this.#pump();
        if (this.#running === 0 && this.#waiting.length === 0) {
          for (const resolve of this.#idle) resolve();
          this.#idle.clear();
        }
      });
    }
  }

  async #deliver(message: MailMessage, context: MailContext): Promise<void> {
    try {
      this.#transport ??= import('nodemailer').then(({ default: nodemailer }) =>
        nodemailer.createTransport(smtpTransportOptions(this.#smtpUrl)),
      );
      const transport = await this.#transport;
      await transport.sendMail({
        from: this.#from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        // Automated mail: no out-of-office answers to Lock's sender.
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
      this.#log.info({ mail: context.kind, userId: context.userId, server: this.#server }, 'mail sent');
    } catch (error) {
      const { code, responseCode, command } = error as {
        code?: string;
        responseCode?: number;
        command?: string;
      };
      await this.#failed(context, {
        code: code ?? 'ERROR',
        ...(responseCode !== undefined && { responseCode }),
        ...(command !== undefined && { command: command.split(' ')[0] }),
        message: (error as Error).message,
      });
    }
  }

  async #failed(context: MailContext, failure: Record<string, unknown> & { code: string; message: string }) {
    this.#log.warn(
      { mail: context.kind, userId: context.userId, server: this.#server, failure },
      'a mail could not be sent',
    );
    await recordAuditEvent(this.#pool, {
      type: 'mail.failed',
      outcome: 'error',
      actor: 'lock',
      subject: context.username ?? context.userId,
      reason: failure.code,
      details: { kind: context.kind, userId: context.userId, server: this.#server },
    }).catch((error) => this.#log.warn({ err: error }, 'auditing a failed mail failed'));
  }
}
