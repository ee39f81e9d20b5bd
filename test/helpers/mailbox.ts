// The suite's mailbox: every message the SMTP peer (test/peers/smtp.ts) accepted, one .eml file
// each, parsed with mailparser. Test files share the peer, so each test mails addresses of its own
// (`mailAddress()`), and a message once returned is not returned again in this process.
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AddressObject, simpleParser } from 'mailparser';
import { requirePeerEnv } from '../peers/peer.ts';

export interface DeliveredMail {
  file: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  headers: Map<string, unknown>;
  raw: string;
}

const HINT = 'the SMTP peer (test/peers/smtp.ts) is not running';

/** LOCK_SMTP_URL for a Lock under test: the run's SMTP server (the test fails when it is absent). */
export const smtpUrl = (): string => requirePeerEnv('LOCK_TEST_SMTP_URL', HINT);
const mailboxDir = (): string => requirePeerEnv('LOCK_TEST_MAILBOX', HINT);

/** An address no other test mails: `<label>-<random>@mail.test`. */
export const mailAddress = (label = 'person') => `${label}-${randomBytes(5).toString('hex')}@mail.test`;

const taken = new Set<string>();
const parsed = new Map<string, DeliveredMail>();

const addresses = (field: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(field) ? field : field ? [field] : [])
    .flatMap((object) => object.value)
    .map((entry) => (entry.address ?? '').toLowerCase());

async function read(file: string): Promise<DeliveredMail> {
  const known = parsed.get(file);
  if (known) return known;
  const raw = await readFile(join(mailboxDir(), file), 'utf8');
  const mail = await simpleParser(raw);
  const delivered: DeliveredMail = {
    file,
    from: addresses(mail.from ? [mail.from] : undefined)[0] ?? '',
    to: addresses(mail.to),
    subject: mail.subject ?? '',
    text: mail.text ?? '',
    html: typeof mail.html === 'string' ? mail.html : '',
    headers: mail.headers as Map<string, unknown>,
    raw,
  };
  parsed.set(file, delivered);
  return delivered;
}

/** Read from the mailbox, to each address, and not returned yet. */
const backlog = new Map<string, DeliveredMail[]>();

async function readNew(): Promise<void> {
  const files = (await readdir(mailboxDir())).filter((name) => name.endsWith('.eml')).sort();
  for (const file of files) {
    if (taken.has(file)) continue;
    taken.add(file);
    const mail = await read(file);
    for (const address of mail.to) backlog.set(address, [...(backlog.get(address) ?? []), mail]);
  }
}

/** The messages to `to` not returned before, oldest first (marked as returned). */
export async function takeMails(to: string): Promise<DeliveredMail[]> {
  await readNew();
  const found = backlog.get(to.toLowerCase()) ?? [];
  backlog.delete(to.toLowerCase());
  return found;
}

/** Waits for the next message to `to` (and matching `subject`, when given); fails after `timeoutMs`. */
export async function waitForMail(
  to: string,
  { subject, timeoutMs = 15_000 }: { subject?: RegExp; timeoutMs?: number } = {},
): Promise<DeliveredMail> {
  const address = to.toLowerCase();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await readNew();
    const pending = backlog.get(address) ?? [];
    const index = pending.findIndex((mail) => subject === undefined || subject.test(mail.subject));
    if (index >= 0) return pending.splice(index, 1)[0]!;
    if (Date.now() > deadline)
      throw new Error(
        `no mail to ${to}${subject ? ` matching ${subject}` : ''} within ${timeoutMs} ms (waiting: ${pending.map((mail) => mail.subject).join(', ') || 'none'})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Fails when a message to `to` is waiting or arrives within `ms` (for what must not be sent). */
export async function assertNoMail(to: string, ms = 1_500): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  const mails = await takeMails(to);
  if (mails.length > 0)
    throw new Error(`unexpected mail to ${to}: ${mails.map((mail) => mail.subject).join(', ')}`);
}

/** The first link in a mail's text part that starts with `prefix`. */
export function linkIn(mail: DeliveredMail, prefix: string): string {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`${escaped}\\S+`).exec(mail.text);
  if (!match) throw new Error(`no link starting ${prefix} in the mail "${mail.subject}":\n${mail.text}`);
  return match[0];
}
