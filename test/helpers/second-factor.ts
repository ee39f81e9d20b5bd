import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readLoginForm, type UserAgent } from './user-agent.ts';

/**
 * The second factor of accounts that must use one (the bootstrap admin holds lock_admin, which
 * LOCK_MFA_REQUIRED_ROLES names by default): enrolled at the first sign-in the way a person does
 * it, then passed with the recovery codes saved at enrolment (clock-independent, and never the
 * same TOTP step twice), and with a TOTP code once they run out.
 */
interface Enrolment {
  secret: string;
  recoveryCodes: string[];
}
const enrolments = new Map<string, Enrolment>();
const keyOf = (issuer: string, username: string) => `${issuer}|${username.toLowerCase()}`;

/**
 * RFC 6238 (HMAC-SHA1, 30 s, 6 digits) with node:crypto, independently of Lock's code: the code
 * at `at`, or `stepOffset` time steps from it.
 */
export function totpCode(secretBase32: string, at = Date.now(), stepOffset = 0): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30) + stepOffset));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const character of text.replace(/=+$/, '')) {
    const value = alphabet.indexOf(character);
    assert.ok(value >= 0, `not base32: ${character}`);
    bits += value.toString(2).padStart(5, '0');
  }
  return Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => Number.parseInt(byte, 2)));
}

/** The key an enrolment page shows, without the grouping. */
export const enrolmentSecretOf = (html: string) =>
  /id="totp-secret">([\s\S]*?)<\/code>/.exec(html)?.[1]?.replace(/<[^>]+>|\s/g, '');

/** The key an enrolment page shows, for typing by hand; the page must be one. */
export function enrolmentSecret(html: string): string {
  const secret = enrolmentSecretOf(html);
  assert.ok(
    secret !== undefined,
    `not an enrolment page:\n${html.replace(/[\s\S]*<main/, '').slice(0, 300)}`,
  );
  return secret;
}

/** The recovery codes a page lists. */
export function recoveryCodesOf(html: string): string[] {
  return [...html.matchAll(/<li><code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})<\/code><\/li>/g)].map(
    (match) => match[1]!,
  );
}

/** Remembers what a browser test saw while enrolling, for later sign-ins of the same account. */
export function rememberEnrolment(issuer: string, username: string, secret: string, recoveryCodes: string[]) {
  enrolments.set(keyOf(issuer, username), { secret, recoveryCodes: [...recoveryCodes] });
}

/** The code to type on the verification page: a saved recovery code while any is left. */
export function nextCode(issuer: string, username: string): string {
  const enrolment = enrolments.get(keyOf(issuer, username));
  if (!enrolment) throw new Error(`${username} has no authenticator this test process enrolled`);
  return enrolment.recoveryCodes.shift() ?? totpCode(enrolment.secret);
}

/**
 * Given the page that followed the password, completes the second factor if it asks for one;
 * returns where the browser went (`landed`) and the last page's HTML.
 */
export async function passSecondFactor(
  agent: UserAgent,
  issuer: string,
  username: string,
  html: string,
): Promise<{ landed: string | undefined; html: string }> {
  const submit = async (page: string, fields: Record<string, string> = {}) => {
    const form = readLoginForm(page);
    const next = await agent.follow(new URL(form.action, issuer).toString(), {
      form: { csrf: form.csrf, ...fields },
    });
    return { landed: next.left, html: next.left ? '' : await next.response.text() };
  };
  if (/Set up two-step sign-in/.test(html)) {
    const secret = enrolmentSecretOf(html);
    if (!secret) throw new Error('the enrolment page shows no key');
    const codes = await submit(html, { code: totpCode(secret) });
    const recoveryCodes = recoveryCodesOf(codes.html);
    if (recoveryCodes.length === 0) return codes;
    rememberEnrolment(issuer, username, secret, recoveryCodes);
    return submit(codes.html);
  }
  if (/Enter your code/.test(html)) return submit(html, { code: nextCode(issuer, username) });
  return { landed: undefined, html };
}
