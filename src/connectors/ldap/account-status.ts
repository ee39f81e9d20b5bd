import type { DirectoryEntry } from './entry.ts';

/**
 * Why an account whose password is right may not sign in; `message` is safe to show its owner: a
 * key of the message catalogue (views/locales/en.json), shown in the page's language.
 */
export interface AccountRestriction {
  reason:
    | 'disabled'
    | 'expired'
    | 'locked'
    | 'password-change-required'
    | 'password-expired'
    | 'logon-restricted';
  message: string;
}

const RESTRICTIONS: Record<AccountRestriction['reason'], string> = {
  disabled: 'login.errors.account_disabled',
  expired: 'login.errors.account_expired',
  locked: 'login.errors.account_locked',
  'password-change-required': 'login.errors.password_change_required',
  'password-expired': 'login.errors.password_expired',
  'logon-restricted': 'login.errors.logon_restricted',
};

export const restriction = (reason: AccountRestriction['reason']): AccountRestriction => ({
  reason,
  message: RESTRICTIONS[reason],
});

/** The attributes `accountRestrictionOf` reads; asked for with every user search. */
export const STATUS_ATTRIBUTES = {
  activeDirectory: [
    'userAccountControl',
    'accountExpires',
    'pwdLastSet',
    'msDS-User-Account-Control-Computed',
  ],
  generic: ['pwdAccountLockedTime'],
};

const UF_ACCOUNTDISABLE = 0x2;
const UF_LOCKOUT = 0x10;
const UF_PASSWORD_EXPIRED = 0x800000;
/** accountExpires 0 and 2^63-1 both mean "never". */
const NEVER = new Set(['0', '9223372036854775807']);
/** FILETIME counts 100 ns steps since 1601-01-01; Unix time starts 11644473600 s later. */
const FILETIME_UNIX_EPOCH = 116444736000000000n;
/** ppolicy's value for an account an administrator locked (it never unlocks by time). */
const PPOLICY_ADMIN_LOCK = '000001010000Z';

/**
 * The restriction a directory entry shows, for the times Lock does not bind as the user (refresh)
 * and for directories that let such a bind succeed. Active Directory: disabled, expired, locked,
 * must change or expired password. Other directories: a ppolicy administrative lock.
 */
export function accountRestrictionOf(
  entry: DirectoryEntry,
  activeDirectory: boolean,
  now: Date,
): AccountRestriction | undefined {
  if (!activeDirectory)
    return entry.values('pwdAccountLockedTime').includes(PPOLICY_ADMIN_LOCK)
      ? restriction('disabled')
      : undefined;
  const control = Number(entry.first('userAccountControl') ?? 0);
  if (control & UF_ACCOUNTDISABLE) return restriction('disabled');
  const expires = entry.first('accountExpires');
  if (expires !== undefined && !NEVER.has(expires) && fileTimeToDate(expires) <= now)
    return restriction('expired');
  const computed = Number(entry.first('msDS-User-Account-Control-Computed') ?? 0);
  if (computed & UF_LOCKOUT) return restriction('locked');
  if (entry.first('pwdLastSet') === '0') return restriction('password-change-required');
  if (computed & UF_PASSWORD_EXPIRED) return restriction('password-expired');
  return undefined;
}

function fileTimeToDate(fileTime: string): Date {
  const milliseconds = (BigInt(fileTime) - FILETIME_UNIX_EPOCH) / 10_000n;
  return new Date(Number(milliseconds));
}

/**
 * Active Directory answers every refused bind with invalidCredentials (49) and names the reason in
 * the message (`… data 533, v1db1`). Codes other than these (52e: wrong password) are wrong
 * credentials. AD names these reasons only for the right password, except 775 (locked).
 */
const AD_BIND_CODES: Record<string, AccountRestriction['reason']> = {
  '530': 'logon-restricted', // not permitted to log on at this time
  '531': 'logon-restricted', // not permitted to log on at this workstation
  '532': 'password-expired',
  '533': 'disabled',
  '701': 'expired',
  '773': 'password-change-required',
  '775': 'locked',
};

export function restrictionFromBindError(message: string): AccountRestriction | undefined {
  const code = /\bdata ([0-9a-f]{3,4})\b/i.exec(message)?.[1]?.toLowerCase();
  const reason = code === undefined ? undefined : AD_BIND_CODES[code];
  return reason === undefined ? undefined : restriction(reason);
}
