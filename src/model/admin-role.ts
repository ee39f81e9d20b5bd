/** The role that administers Lock: the admin API and console accept tokens carrying it. */
export const ADMIN_ROLE = 'lock_admin';

/**
 * A client given lock_admin administers Lock with its secret alone — no person signs in, no second
 * factor — for as long as the secret lives. Allowed (automation needs it), never silently: whoever
 * grants it (API, CLI, declarative apply) is told this, and the audit log gets an event of its own.
 */
export const adminRoleGrantWarning = (clientId: string): string =>
  `client "${clientId}" now holds ${ADMIN_ROLE}: whoever has its secret administers Lock (connectors, clients, users, keys) without signing in. Prefer people signing in to the console; if automation needs it, keep the secret in a vault, rotate it, and remove the role when done.`;
