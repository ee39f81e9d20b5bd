// The account page's library (docs/account.md): what /account's routes call. It knows no HTTP;
// the routes (src/interactions/account/) parse, call it, then render or redirect.
import type Provider from 'oidc-provider';
import type pg from 'pg';
import type { ConnectorInfo } from '../connectors/connector.ts';
import type { Mail } from '../mail/mail.ts';
import { type SecurityNoticeKind, sendSecurityNotice } from '../mail/security-notice.ts';
import type { LogoutNotice } from '../oidc/backchannel-logout.ts';
import type { BruteForceGuard } from '../security/brute-force.ts';
import type { PasswordVerifyGate } from '../security/passwords.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { AccountPerson, AccountRequest, AccountSession } from './account-context.ts';
import { AccountSignIn } from './account-sign-in.ts';
import { appsWithAccess, removeAppAccess } from './apps.ts';
import { endSessionsByPerson, listOwnSessions } from './lock-sessions.ts';
import { type PageSessionLimits, PageSessions } from './page-sessions.ts';
import { changeOwnPassword, type PasswordChange } from './password-change.ts';
import { findAccountPerson } from './person.ts';
import { AccountSecondFactor } from './second-factor.ts';
import { recentSignIns } from './sign-ins.ts';

export interface AccountServiceOptions {
  issuer: string;
  pool: pg.Pool;
  box: SecretBox;
  provider: () => Provider;
  connectors: () => ReadonlyMap<string, ConnectorInfo>;
  /** A client's name as people know it (the catalog's), for the applications a session signed in to. */
  clientName: (clientId: string) => string;
  verifier: PasswordVerifyGate;
  bruteForce: BruteForceGuard;
  limits: PageSessionLimits;
  /** Hands back-channel logout notices over once their transaction has committed. */
  notifyLogout: (notices: LogoutNotice[]) => void;
  /** Mails security notices to the account's verified address (docs/email.md); undefined: mail is off. */
  mail?: Mail | undefined;
  now: () => Date;
}

export class AccountService {
  readonly options: AccountServiceOptions;
  readonly signIn: AccountSignIn;
  readonly pageSessions: PageSessions;
  /** The authenticator app (TOTP) and recovery codes of Lock's own accounts. */
  readonly secondFactor: AccountSecondFactor;

  constructor(options: AccountServiceOptions) {
    this.options = options;
    this.signIn = new AccountSignIn(options);
    this.pageSessions = new PageSessions(options.pool, options.limits, options.now);
    this.secondFactor = new AccountSecondFactor(options);
  }

  /** A client's name as people know it. */
  readonly clientName = (clientId: string): string => this.options.clientName(clientId);

  get pool(): pg.Pool {
    return this.options.pool;
  }

  person(session: AccountSession): Promise<AccountPerson | undefined> {
    return findAccountPerson(this.options.pool, this.options.connectors(), session.sub);
  }

  async changePassword(person: AccountPerson, request: AccountRequest, change: PasswordChange) {
    const outcome = await changeOwnPassword(this.options, person, request, change);
    if (outcome.status === 'changed') {
      this.options.notifyLogout(outcome.notices);
      await this.#notify(person, request, 'password_changed');
    }
    return outcome;
  }

  /** Removes the authenticator app and its recovery codes; false when there was none. */
  async removeTotp(
    person: AccountPerson & { localUserId: string },
    request: AccountRequest,
  ): Promise<boolean> {
    const removed = await this.secondFactor.remove(person, request);
    if (removed) await this.#notify(person, request, 'totp_removed');
    return removed;
  }

  /** Tells the person's verified address of a change they made here (after it committed). */
  async #notify(person: AccountPerson, request: AccountRequest, kind: SecurityNoticeKind): Promise<void> {
    if (person.localUserId === undefined) return;
    await sendSecurityNotice(this.options.mail, person.localUserId, kind, { by: 'self', ip: request.ip });
  }

  recentSignIns(person: AccountPerson) {
    return recentSignIns(this.options.pool, person);
  }

  /** The applications with access to the person's account (docs/account.md, "Apps with access"). */
  appsWithAccess(person: AccountPerson) {
    return appsWithAccess(this.options.pool, person.sub);
  }

  /** Takes back one application's access: false when it had none. */
  removeAppAccess(person: AccountPerson, request: AccountRequest, clientId: string): Promise<boolean> {
    return removeAppAccess(this.options.pool, person, request, clientId);
  }

  listSessions(person: AccountPerson) {
    return listOwnSessions(this.options.pool, person);
  }

  async endSessions(
    person: AccountPerson,
    request: AccountRequest,
    which: { only: string } | { except: string },
  ): Promise<number> {
    const { ended, notices } = await endSessionsByPerson(this.options.pool, person, request, which);
    this.options.notifyLogout(notices);
    return ended;
  }
}
