import { parseArgs } from 'node:util';
import { CLI_ACTOR } from '../admin/admin-actor.ts';
import { createClient } from '../admin/clients.ts';
import { existingUserNamed } from '../admin/existing-user.ts';
import { listUserApps, removeUserAppAccess } from '../admin/user-apps.ts';
import { resetPasskeys } from '../admin/user-passkeys.ts';
import { resetTotp } from '../admin/user-totp.ts';
import { addAccount, changePassword, parseNewAccount, setAccountDisabled } from '../admin/users.ts';
import { sendEmailVerification } from '../mail/email-verification.ts';
import { createMail, type Mail } from '../mail/mail.ts';
import { sendSecurityNotice } from '../mail/security-notice.ts';
import type { LogoutNotice } from '../oidc/backchannel-logout.ts';
import { sendLogoutNotices } from '../oidc/send-logout-notices.ts';
import { BruteForceGuard } from '../security/brute-force.ts';
import { findUserByUsername } from '../store/users.ts';
import { cliLogger, print, printJson } from './output.ts';
import { readSecret } from './prompt.ts';
import { type Session, withSession } from './session.ts';

/** `lock users add NAME [--email E] [--name N] [--group G]… [--role R]… [--no-password]` (password on stdin or prompted). */
export async function usersAdd(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      group: { type: 'string', multiple: true },
      role: { type: 'string', multiple: true },
      'no-password': { type: 'boolean' },
    },
  });
  const [username] = positionals;
  if (!username || positionals.length > 1)
    throw new Error('usage: lock users add USERNAME [--email E] [--name N] [--group G]... [--role R]...');
  // The admin API's parser: an invalid email is refused naming `email`, before a password is asked for.
  const account = parseNewAccount({
    username,
    ...(values.email !== undefined && { email: values.email }),
    ...(values.name !== undefined && { name: values.name }),
    groups: values.group ?? [],
    roles: values.role ?? [],
  });
  const password = values['no-password'] ? undefined : await readSecret(`password for ${username}: `);
  await withSession(async (session) => {
    const { database } = session;
    const user = await addAccount(
      database.pool,
      password === undefined ? account : parseNewAccount({ ...account, password }),
    );
    print(`added user ${user.username} (${user.id})`);
    if (user.email !== undefined)
      await withMail(session, (mail) => sendEmailVerification(mail, user, user.email!, { actor: 'cli' }));
  });
}

/** `lock users passwd NAME [--end-sessions]` (password on stdin or prompted). */
export async function usersPasswd(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'end-sessions': { type: 'boolean' } },
  });
  const [username] = positionals;
  if (!username) throw new Error('usage: lock users passwd USERNAME [--end-sessions]');
  const password = await readSecret(`new password for ${username}: `);
  await withSession(async (session) => {
    const { ended, notices } = await changePassword(session.database.pool, username, password, {
      endSessions: values['end-sessions'] === true,
    });
    print(
      `password of ${username} changed${values['end-sessions'] ? `; ended ${ended} sessions and tokens` : ''}`,
    );
    await tellClients(session, notices);
    const user = await findUserByUsername(session.database.pool, username);
    if (user)
      await withMail(session, (mail) =>
        sendSecurityNotice(mail, user.id, 'password_changed', { by: 'admin' }),
      );
  });
}

/** `lock users disable|enable NAME` */
export async function usersSetDisabled(args: string[], disabled: boolean): Promise<void> {
  const [username] = args;
  if (!username) throw new Error(`usage: lock users ${disabled ? 'disable' : 'enable'} USERNAME`);
  await withSession(async (session) => {
    const { ended, notices } = await setAccountDisabled(session.database.pool, username, disabled);
    print(disabled ? `disabled ${username}; ended ${ended} sessions and tokens` : `enabled ${username}`);
    await tellClients(session, notices);
  });
}

/** Mail from the CLI (when LOCK_SMTP_URL is set): sent before the command exits, each tried once. */
async function withMail(session: Session, send: (mail: Mail) => Promise<void>): Promise<void> {
  const mail = createMail(session.env, session.database.pool, cliLogger(), () => new Date());
  if (!mail) return;
  try {
    await send(mail);
    await mail.mailer.idle();
  } finally {
    mail.mailer.close();
  }
}

/** Back-channel logout from the CLI: sent before the command exits (bounded by the delivery's attempts). */
async function tellClients(session: Session, notices: LogoutNotice[]): Promise<void> {
  const counts = await sendLogoutNotices(
    session.database.pool,
    session.box,
    { issuer: session.env.LOCK_ISSUER, kekSource: session.kekSource },
    notices,
  );
  const sent = Object.entries(counts).filter(([, count]) => count > 0);
  if (sent.length > 0)
    print(`back-channel logout: ${sent.map(([outcome, count]) => `${count} ${outcome}`).join(', ')}`);
}

/** `lock users unlock NAME`: lifts a brute-force lockout (any connector's account of that name). */
export async function usersUnlock(args: string[]): Promise<void> {
  const [username] = args;
  if (!username) throw new Error('usage: lock users unlock USERNAME');
  await withSession(async ({ database }) => {
    const unlocked = await new BruteForceGuard(database.pool).unlockAccount(username);
    print(unlocked ? `unlocked ${username}` : `${username} had no failed sign-ins on record`);
  });
}

/** `lock users totp-reset NAME`: removes the account's authenticator and recovery codes (a lost device). */
export async function usersTotpReset(args: string[]): Promise<void> {
  const [username] = args;
  if (!username || args.length > 1) throw new Error('usage: lock users totp-reset USERNAME');
  await withSession(async ({ database }) => {
    const { removed } = await resetTotp(database.pool, username);
    print(
      removed
        ? `removed the authenticator and recovery codes of ${username}`
        : `${username} had no authenticator enrolled`,
    );
  });
}

/** `lock users passkeys-reset NAME`: removes every passkey of the account (lost devices). */
export async function usersPasskeysReset(args: string[]): Promise<void> {
  const [username] = args;
  if (!username || args.length > 1) throw new Error('usage: lock users passkeys-reset USERNAME');
  await withSession(async (session) => {
    const { user, removed } = await resetPasskeys(session.database.pool, username);
    if (removed > 0)
      await withMail(session, (mail) =>
        sendSecurityNotice(mail, user.id, 'passkey_removed', { by: 'admin' }),
      );
    print(
      removed > 0
        ? `removed ${removed} ${removed === 1 ? 'passkey' : 'passkeys'} of ${username}`
        : `${username} had no passkeys`,
    );
  });
}

/** `lock users apps NAME [--json]`: the applications with access to the account (what /account lists). */
export async function usersApps(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' } },
  });
  const [username] = positionals;
  if (!username || positionals.length > 1) throw new Error('usage: lock users apps USERNAME [--json]');
  await withSession(async (session) => {
    const { pool } = session.database;
    const apps = await listUserApps(pool, (await existingUserNamed(pool, username)).id);
    if (values.json) return printJson({ items: apps });
    if (apps.length === 0) return print(`no application holds access to ${username}'s account`);
    for (const app of apps) {
      const apis = app.apis.map((api) => `${api.indicator} (${api.scopes.join(' ')})`).join(', ');
      print([app.clientId, app.openidScopes.join(' ') || '-', apis || '-', app.since].join('\t'));
    }
  });
}

/** `lock users app-remove NAME CLIENT`: takes back one application's access to the account. */
export async function usersAppRemove(args: string[]): Promise<void> {
  const [username, clientId] = args;
  if (!username || !clientId || args.length > 2)
    throw new Error('usage: lock users app-remove USERNAME CLIENT');
  await withSession(async (session) => {
    const user = await existingUserNamed(session.database.pool, username);
    await removeUserAppAccess(session.database.pool, user.id, clientId, CLI_ACTOR);
    print(`removed the access of ${clientId} to ${username}'s account`);
  });
}

/** `lock clients add ID [--public] [--first-party] [--name N] [--redirect-uri U]… [--grant-type G]… [--role R]… [--resource R]…` */
export async function clientsAdd(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      public: { type: 'boolean' },
      'first-party': { type: 'boolean' },
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      'grant-type': { type: 'string', multiple: true },
      role: { type: 'string', multiple: true },
      resource: { type: 'string', multiple: true },
      'id-token-signing-alg': { type: 'string' },
    },
  });
  const [clientId] = positionals;
  if (!clientId)
    throw new Error('usage: lock clients add CLIENT_ID [--public] [--redirect-uri U]... [--grant-type G]...');
  await withSession(async ({ env, database, box }) => {
    const { client, secret, warnings } = await createClient(database.pool, box, env.LOCK_ISSUER, {
      clientId,
      public: values.public === true,
      firstParty: values['first-party'] === true,
      ...(values.name !== undefined && { name: values.name }),
      ...(values['grant-type'] && { grantTypes: values['grant-type'] }),
      redirectUris: values['redirect-uri'] ?? [],
      postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
      roles: values.role ?? [],
      resources: values.resource ?? [],
      ...(values['id-token-signing-alg'] !== undefined && {
        idTokenSigningAlg: values['id-token-signing-alg'],
      }),
    });
    print(
      `added ${client.public ? 'public' : 'confidential'} client ${client.clientId} (${client.grantTypes.join(', ')})`,
    );
    if (secret) print(`client secret (shown once, store it now): ${secret}`);
    for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
  });
}
