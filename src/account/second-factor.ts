// A local account's authenticator app on /account: set one up (the same TOTP and recovery codes as
// the sign-in's enrolment, src/login/second-factor.ts, built on src/security/totp.ts), remove it,
// or replace its recovery codes. Each change is one transaction with its audit event.
import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import type { SecretBox } from '../security/secret-box.ts';
import {
  generateRecoveryCodes,
  generateTotpSecret,
  hashRecoveryCode,
  matchingTotpSteps,
  otpauthUri,
  parseTotpCode,
  totpSecretContext,
} from '../security/totp.ts';
import { type Queryable, tx } from '../store/pool.ts';
import {
  countUnusedRecoveryCodes,
  deleteTotp,
  findTotpCredential,
  insertTotpCredential,
  lockTotpCredential,
  replaceRecoveryCodes,
} from '../store/totp.ts';
import { type AccountPerson, type AccountRequest, accountAudit } from './account-context.ts';

/** How long an enrolment page's secret may wait for its first code. */
const ENROLMENT_TTL_MS = 15 * 60_000;
const enrolmentContext = (userId: string) => `account totp enrolment:${userId}`;

export interface TotpStatus {
  enrolled: boolean;
  since?: Date;
  recoveryCodesLeft: number;
}

/** A fresh secret for the enrolment page, and the sealed form of it the page's form carries back. */
export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
  /** Sealed under the KEK for this account only, with an expiry: the form's hidden `enrolment`. */
  sealed: string;
}

export type EnrolOutcome =
  | { status: 'enrolled'; recoveryCodes: string[] }
  | { status: 'wrong-code' }
  /** The page's secret is not this account's, was altered, or is too old: start again. */
  | { status: 'expired' }
  | { status: 'already-enrolled' };

export class AccountSecondFactor {
  readonly #pool: pg.Pool;
  readonly #box: SecretBox;
  readonly #now: () => Date;

  constructor(options: { pool: pg.Pool; box: SecretBox; now: () => Date }) {
    this.#pool = options.pool;
    this.#box = options.box;
    this.#now = options.now;
  }

  async status(userId: string, db: Queryable = this.#pool): Promise<TotpStatus> {
    const credential = await findTotpCredential(db, userId);
    if (!credential) return { enrolled: false, recoveryCodesLeft: 0 };
    return {
      enrolled: true,
      since: credential.confirmedAt,
      recoveryCodesLeft: await countUnusedRecoveryCodes(db, userId),
    };
  }

  startEnrolment(person: AccountPerson & { localUserId: string }): TotpEnrolment {
    const secret = generateTotpSecret();
    const sealed = this.#box.seal(
      JSON.stringify({ secret, expires: this.#now().getTime() + ENROLMENT_TTL_MS }),
      enrolmentContext(person.localUserId),
    );
    return { secret, otpauthUri: otpauthUri(secret, person.username), sealed };
  }

  /** The page's secret again (to show the page once more after a wrong code), or undefined. */
  reopen(person: AccountPerson & { localUserId: string }, sealed: string): TotpEnrolment | undefined {
    const secret = this.#open(person.localUserId, sealed);
    return secret === undefined
      ? undefined
      : { secret, otpauthUri: otpauthUri(secret, person.username), sealed };
  }

  async confirmEnrolment(
    person: AccountPerson & { localUserId: string },
    request: AccountRequest,
    sealed: string,
    input: string,
  ): Promise<EnrolOutcome> {
    const userId = person.localUserId;
    const secret = this.#open(userId, sealed);
    if (secret === undefined) return { status: 'expired' };
    const audit = { ...accountAudit(person, request), type: 'account.totp.enrolled' };
    const code = parseTotpCode(input);
    const steps = code === undefined ? [] : matchingTotpSteps(secret, code, this.#now());
    if (steps.length === 0) {
      await recordAuditEvent(this.#pool, { ...audit, outcome: 'failure', reason: 'wrong code' });
      return { status: 'wrong-code' };
    }
    const recoveryCodes = generateRecoveryCodes();
    return tx(this.#pool, async (db) => {
      const inserted = await insertTotpCredential(db, {
        userId,
        secretSealed: this.#box.seal(secret, totpSecretContext(userId)),
        lastUsedStep: steps[0]!,
        confirmedAt: this.#now(),
      });
      if (!inserted) {
        await recordAuditEvent(db, {
          ...audit,
          outcome: 'failure',
          reason: 'an authenticator is already set up',
        });
        return { status: 'already-enrolled' as const };
      }
      await replaceRecoveryCodes(
        db,
        userId,
        recoveryCodes.map((recovery) => hashRecoveryCode(userId, recovery)),
      );
      await recordAuditEvent(db, { ...audit, outcome: 'success' });
      return { status: 'enrolled' as const, recoveryCodes };
    });
  }

  /** Removes the authenticator and its recovery codes; false when there was none. */
  async remove(person: AccountPerson & { localUserId: string }, request: AccountRequest): Promise<boolean> {
    return tx(this.#pool, async (db) => {
      const removed = await deleteTotp(db, person.localUserId);
      await recordAuditEvent(db, {
        ...accountAudit(person, request),
        type: 'account.totp.removed',
        outcome: removed ? 'success' : 'failure',
        ...(!removed && { reason: 'no authenticator was set up' }),
      });
      return removed;
    });
  }

  /** New recovery codes in place of all the old ones (used or not); undefined without an authenticator. */
  async regenerateRecoveryCodes(
    person: AccountPerson & { localUserId: string },
    request: AccountRequest,
  ): Promise<string[] | undefined> {
    const userId = person.localUserId;
    const codes = generateRecoveryCodes();
    return tx(this.#pool, async (db) => {
      // Locks the credential's row: a removal at the same time cannot leave codes without an app.
      const { rowCount } = await lockTotpCredential(db, userId);
      const audit = { ...accountAudit(person, request), type: 'account.recovery_codes.regenerated' };
      if (rowCount === 0) {
        await recordAuditEvent(db, { ...audit, outcome: 'failure', reason: 'no authenticator is set up' });
        return undefined;
      }
      await replaceRecoveryCodes(
        db,
        userId,
        codes.map((code) => hashRecoveryCode(userId, code)),
      );
      await recordAuditEvent(db, { ...audit, outcome: 'success', details: { count: codes.length } });
      return codes;
    });
  }

  #open(userId: string, sealed: string): string | undefined {
    try {
      const { secret, expires } = JSON.parse(this.#box.open(sealed, enrolmentContext(userId))) as {
        secret: string;
        expires: number;
      };
      return expires > this.#now().getTime() ? secret : undefined;
    } catch {
      return undefined;
    }
  }
}
