/**
 * What every connector offers Lock, Dex-style: one small interface per capability. A wrong password
 * is a value, not an error; errors mean the upstream failed.
 */

import type { UpstreamIdentity } from '../model/upstream-identity.ts';

export type { UpstreamIdentity };

export type PasswordLoginResult =
  | { outcome: 'authenticated'; identity: UpstreamIdentity }
  /** The connector knows nobody by this name: the next password connector may. */
  | { outcome: 'unknown-user' }
  /** The connector knows the user and the password is wrong: the login ends here. */
  | { outcome: 'invalid-credentials' }
  /** Right password, but the account may not sign in; `message` is safe to show to that user. */
  | { outcome: 'refused'; reason: string; message: string }
  /** The connector found the account, but its attempt was not admitted: the password was not checked. */
  | { outcome: 'locked-out' };

/**
 * What Lock hands a password connector for one sign-in attempt. The connector resolves the account
 * first, then asks `admit` before it checks the password against that account, so that every alias
 * of one account draws on one budget and no guess is checked past it.
 */
export interface PasswordAttempt {
  /**
   * Reserves this attempt on the resolved account (`upstreamId` as in UpstreamIdentity; `username`
   * the account's own name). False: check nothing and answer `locked-out`.
   */
  admit(account: { upstreamId: string; username: string }): Promise<boolean>;
  /**
   * Checks a password against an argon2 hash the connector keeps, within Lock's bound on concurrent
   * verifies; Lock counts it as the attempt's one verify (a failure that made none pays a dummy one).
   */
  verifyPassword(storedHash: string, password: string): Promise<{ valid: boolean; needsRehash: boolean }>;
}

export interface ConnectorInfo {
  id: string;
  type: string;
  name: string;
}

export interface PasswordConnector extends ConnectorInfo {
  /** Without `attempt` (tests, tools) every account is admitted and verifies are not bounded. */
  login(username: string, password: string, attempt?: PasswordAttempt): Promise<PasswordLoginResult>;
}

/** Connectors that can look the user up again when a refresh token is used. */
export interface RefreshConnector {
  /** The identity as it is now, or undefined when the user is gone or may no longer sign in. */
  refresh(identity: UpstreamIdentity): Promise<UpstreamIdentity | undefined>;
}

export const isPasswordConnector = (connector: ConnectorInfo): connector is PasswordConnector =>
  typeof (connector as Partial<PasswordConnector>).login === 'function';

export const isRefreshConnector = (connector: object): connector is RefreshConnector =>
  typeof (connector as Partial<RefreshConnector>).refresh === 'function';

/** The upstream failed (unreachable, timed out, misconfigured): not the user's fault. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
}

/** Told how long each call to an upstream took and whether it failed (for metrics). */
export type UpstreamObserver = (operation: string, outcome: 'ok' | 'error', seconds: number) => void;

/** Times `work` for the observer; an UpstreamError (or any throw) counts as `error`. */
export async function observed<T>(
  observe: UpstreamObserver | undefined,
  operation: string,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    const result = await work();
    observe?.(operation, 'ok', (performance.now() - started) / 1000);
    return result;
  } catch (error) {
    observe?.(operation, 'error', (performance.now() - started) / 1000);
    throw error;
  }
}
