// TOTP (RFC 6238) for local accounts: HMAC-SHA1, 30-second steps, 6 digits, the codes of one step
// either side of now accepted. The HOTP arithmetic is otpauth's; the choice of step (and so replay
// refusal) is Lock's, against the last step stored per account. See docs/totp.md.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';

export const TOTP_ISSUER = 'Lock';
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of the current one: clock drift and the time it takes to type. */
export const TOTP_WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;

const SECRET_BYTES = 20; // 160 bits: RFC 4226's recommended key length for HMAC-SHA1
const RECOVERY_CODE_BYTES = 10; // 80 bits: 16 base32 characters

/** The SecretBox context a user's TOTP secret is sealed under. */
export const totpSecretContext = (userId: string) => `totp:${userId}`;

/** A fresh random secret, base32 (RFC 4648, no padding) as authenticator apps take it. */
export function generateTotpSecret(): string {
  return new Secret({ buffer: bufferOf(randomBytes(SECRET_BYTES)) }).base32;
}

/** The `otpauth://totp/Lock:<username>?…` URI that a QR code hands to an authenticator app. */
export function otpauthUri(secret: string, username: string): string {
  return totpFor(secret, username).toString();
}

/** The time step `now` falls in. */
export function totpStep(now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/** Six digits, spaces allowed (apps show "123 456"); undefined for anything else. */
export function parseTotpCode(input: string): string | undefined {
  const code = input.replace(/\s+/g, '');
  return new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(code) ? code : undefined;
}

/**
 * The steps within the window around `now` whose code is `code`, latest first (almost always none
 * or one). The caller accepts only a step later than the account's last accepted one.
 */
export function matchingTotpSteps(secret: string, code: string, now: Date): number[] {
  const current = totpStep(now);
  const presented = Buffer.from(code);
  const matches: number[] = [];
  for (let step = current + TOTP_WINDOW; step >= current - TOTP_WINDOW; step--) {
    const expected = Buffer.from(
      HOTP.generate({ secret: Secret.fromBase32(secret), counter: step, digits: TOTP_DIGITS }),
    );
    if (expected.length === presented.length && timingSafeEqual(expected, presented)) matches.push(step);
  }
  return matches;
}

/** Ten fresh recovery codes as the user sees them: `abcd-efgh-ijkl-mnop` (80 random bits each). */
export function generateRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const text = new Secret({ buffer: bufferOf(randomBytes(RECOVERY_CODE_BYTES)) }).base32.toLowerCase();
    return text.match(/.{4}/g)!.join('-');
  });
}

/** A typed recovery code in its canonical form (case, spaces and dashes ignored); undefined if it cannot be one. */
export function parseRecoveryCode(input: string): string | undefined {
  const code = input.replace(/[\s-]+/g, '').toUpperCase();
  return /^[A-Z2-7]{16}$/.test(code) ? code : undefined;
}

/**
 * What is stored of a recovery code: SHA-256 of `<userId>:<canonical code>`. A slow hash buys
 * nothing against 80 random bits, and bound to the user a hash is no use for anyone else.
 */
export function hashRecoveryCode(userId: string, code: string): string {
  const canonical = parseRecoveryCode(code);
  if (canonical === undefined) throw new TypeError('not a recovery code');
  return createHash('sha256').update(`${userId}:${canonical}`).digest('hex');
}

function totpFor(secret: string, username: string): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label: username,
    secret: Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  });
}

/** The bytes of a Buffer as an ArrayBuffer of their own (a small Buffer shares Node's pool). */
function bufferOf(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
}
