import { z } from 'zod';
import { sendEmailVerification } from '../../mail/email-verification.ts';
import { sendSecurityNotice } from '../../mail/security-notice.ts';
import { conflict, invalidInput } from '../../observability/errors.ts';
import { listUsersPage } from '../../store/users.ts';
import type { AdminActor } from '../admin-actor.ts';
import { listUserApps, removeUserAppAccess } from '../user-apps.ts';
import { listUserPasskeys, removeUserPasskey, resetPasskeysById } from '../user-passkeys.ts';
import { soleAdminAccountExists, unlockUser, userListItems, userState } from '../user-state.ts';
import { resetTotpById } from '../user-totp.ts';
import {
  addAccount,
  deleteAccount,
  endAccountSessionsById,
  getUser,
  parseNewAccount,
  replaceAccount,
  setAccountDisabledById,
  setAccountPassword,
} from '../users.ts';
import { parseInput } from '../validation.ts';
import { entityRoutes } from './crud.ts';
import type { AdminApiDeps, AdminCall, AdminRoute } from './route.ts';
import { mergePatchOf, userInputSchema } from './schemas.ts';
import { userAppView, userPasskeyView, userView as userViewSchema } from './views.ts';

const listQuery = z.strictObject({
  q: z.string().min(1).max(256).optional().describe('part of the username, email or name'),
  search: z.string().min(1).max(256).optional().describe('the same as q (the older name)'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(1400).optional().describe('the `next` of the previous page'),
});

const passwordInputSchema = z.strictObject({
  password: z.string().min(1).max(1024),
  endSessions: z.boolean().default(false).describe('sign the user out everywhere (e.g. after a compromise)'),
});

const encodeCursor = (username: string) => Buffer.from(`user:${username}`).toString('base64url');
function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('user:'))
    throw invalidInput([{ path: 'cursor', message: 'is not a cursor this API gave out' }], 400);
  return text.slice('user:'.length);
}

async function list({ deps, query, by }: AdminCall) {
  const limit = query.limit as number;
  const search = query.q ?? query.search;
  const users = await listUsersPage(deps.pool, {
    limit: limit + 1,
    ...(typeof query.cursor === 'string' && { after: decodeCursor(query.cursor) }),
    ...(typeof search === 'string' && { search }),
  });
  const page = users.slice(0, limit);
  const soleAdmin = await soleAdminAccountExists(deps.pool);
  const items = await userListItems(deps.pool, page, by, soleAdmin);
  return { items, next: users.length > limit ? encodeCursor(page.at(-1)!.username) : null };
}

/** The user as every response shows it: the profile (its ETag) and the state read now. */
async function withState(deps: AdminApiDeps, id: string, by: AdminActor) {
  const { user, etag } = await getUser(deps.pool, id);
  const state = await userState(deps.pool, user, by, await soleAdminAccountExists(deps.pool));
  return { view: user, etag, extra: { ...state } };
}

const userReply = async (deps: AdminApiDeps, id: string, by: AdminActor) => {
  const { view, etag, extra } = await withState(deps, id, by);
  return { body: { ...view, ...extra }, etag };
};

const params = { id: 'the user id (uuid)' };

/**
 * `POST /users/{id}/…` that acts on the account and answers it as it is now (404 when it is gone):
 * unlock, reset a second factor, end its sessions.
 */
function userAction(action: {
  path: string;
  operationId: string;
  summary: string;
  act: (call: AdminCall) => Promise<unknown>;
}): AdminRoute {
  return {
    method: 'post',
    path: action.path,
    operationId: action.operationId,
    summary: action.summary,
    tag: 'Users',
    params,
    etag: 'read',
    response: { status: 200, description: 'The user', schema: userViewSchema },
    errors: [404],
    handle: async (call) => {
      await action.act(call);
      return userReply(call.deps, call.params.id!, call.by);
    },
  };
}

export const userRoutes: AdminRoute[] = [
  ...entityRoutes({
    tag: 'Users',
    singular: 'user',
    plural: 'users',
    collectionPath: '/users',
    itemPath: '/users/{id}',
    params,
    idFields: {},
    reloads: false,
    readOnly: [
      'id',
      'managedBy',
      'hasPassword',
      'emailVerified',
      'createdAt',
      'updatedAt',
      'effectiveRoles',
      'connector',
      'lockedUntil',
      'secondFactor',
      'you',
      'lastAdmin',
    ],
    view: userViewSchema,
    input: userInputSchema,
    patch: mergePatchOf('user'),
    listQuery,
    summaries: {
      list: 'List local accounts in username order, a page at a time',
      create: 'Create a local account (the password must pass the password policy)',
      replace:
        'Replace an account’s profile, groups, direct roles and status (a password, when given, is set)',
      remove: 'Delete an account, ending its sessions and refresh tokens',
    },
    list,
    create: async ({ deps, body, by }) => {
      const user = await addAccount(deps.pool, parseNewAccount(body), by);
      if (user.email !== undefined)
        await sendEmailVerification(deps.mail?.mail, user, user.email, { actor: by.actor });
      return withState(deps, user.id, by);
    },
    read: async ({ deps, params, by }) => withState(deps, params.id!, by),
    replace: async ({ deps, params, ifMatch, by }, body) => {
      const { notices, emailChanged } = await replaceAccount(
        deps.pool,
        params.id!,
        parseNewAccount(body),
        ifMatch,
        by,
      );
      deps.runtime.backchannelLogout.notify(notices);
      const reply = await withState(deps, params.id!, by);
      if (emailChanged && reply.view.email !== undefined)
        await sendEmailVerification(deps.mail?.mail, reply.view, reply.view.email, { actor: by.actor });
      return reply;
    },
    remove: async ({ deps, params, ifMatch, by }) => {
      const { notices } = await deleteAccount(deps.pool, params.id!, ifMatch, by);
      deps.runtime.backchannelLogout.notify(notices);
    },
  }),
  {
    method: 'post',
    path: '/users/{id}/password',
    operationId: 'setUserPassword',
    summary: 'Set an account’s password (optionally signing the user out everywhere)',
    tag: 'Users',
    params,
    body: passwordInputSchema,
    bodyRequired: true,
    etag: 'optional',
    response: { status: 200, description: 'The user', schema: userViewSchema },
    errors: [404, 412, 415, 422],
    handle: async ({ deps, params, body, ifMatch, by }) => {
      const { password, endSessions } = parseInput(passwordInputSchema, body);
      const { notices } = await setAccountPassword(
        deps.pool,
        params.id!,
        password,
        { endSessions, ifMatch },
        by,
      );
      deps.runtime.backchannelLogout.notify(notices);
      await sendSecurityNotice(deps.mail?.mail, params.id!, 'password_changed', { by: 'admin' });
      return userReply(deps, params.id!, by);
    },
  },
  {
    method: 'post',
    path: '/users/{id}/verify-email',
    operationId: 'sendUserEmailVerification',
    summary:
      'Mail the account a link that confirms its email address (docs/email.md); 409 without mail configured or without an email',
    tag: 'Users',
    params,
    etag: 'read',
    response: { status: 200, description: 'The user', schema: userViewSchema },
    errors: [404, 409],
    handle: async ({ deps, params, by }) => {
      const { user } = await getUser(deps.pool, params.id!);
      if (!deps.mail)
        throw conflict('mail is not configured (LOCK_SMTP_URL, LOCK_MAIL_FROM): no link can be sent');
      if (user.email === undefined) throw conflict(`user ${user.username} has no email address`);
      await sendEmailVerification(deps.mail.mail, user, user.email, { actor: by.actor });
      return userReply(deps, params.id!, by);
    },
  },
  userAction({
    path: '/users/{id}/end-sessions',
    operationId: 'endUserSessions',
    summary:
      'Sign the user out everywhere: sessions, grants and refresh tokens end, and clients with a back-channel logout URI are told',
    act: async ({ deps, params, by }) => {
      const { notices } = await endAccountSessionsById(deps.pool, params.id!, by);
      deps.runtime.backchannelLogout.notify(notices);
    },
  }),
  ...(['disable', 'enable'] as const).map(
    (action): AdminRoute => ({
      method: 'post',
      path: `/users/{id}/${action}`,
      operationId: `${action}User`,
      summary:
        action === 'disable'
          ? 'Disable an account: it cannot sign in, and its sessions and refresh tokens end at once'
          : 'Enable a disabled account',
      tag: 'Users',
      params,
      etag: 'optional',
      response: { status: 200, description: 'The user', schema: userViewSchema },
      errors: [404, 409, 412],
      handle: async ({ deps, params, ifMatch, by }) => {
        const { notices } = await setAccountDisabledById(
          deps.pool,
          params.id!,
          action === 'disable',
          { ifMatch },
          by,
        );
        deps.runtime.backchannelLogout.notify(notices);
        return userReply(deps, params.id!, by);
      },
    }),
  ),
  userAction({
    path: '/users/{id}/unlock',
    operationId: 'unlockUser',
    summary:
      'Lift a brute-force lockout: forget the failed sign-ins counted against the account’s name (as `lock users unlock`)',
    act: ({ deps, params, by }) => unlockUser(deps.pool, params.id!, by),
  }),
  userAction({
    path: '/users/{id}/totp-reset',
    operationId: 'resetUserTotp',
    summary:
      'Forget the account’s authenticator and recovery codes (a lost device): the next sign-in enrols anew where a role requires it',
    act: ({ deps, params, by }) => resetTotpById(deps.pool, params.id!, by),
  }),
  {
    method: 'get',
    path: '/users/{id}/passkeys',
    operationId: 'listUserPasskeys',
    summary:
      'The account’s passkeys: name, created, last used, synced or bound to one device, authenticator model (never a key or credential id)',
    tag: 'Users',
    params,
    response: {
      status: 200,
      description: 'The passkeys, oldest first',
      schema: z.object({ items: z.array(userPasskeyView) }),
    },
    errors: [404],
    handle: async ({ deps, params }) => ({ body: { items: await listUserPasskeys(deps.pool, params.id!) } }),
  },
  {
    method: 'delete',
    path: '/users/{id}/passkeys/{passkeyId}',
    operationId: 'removeUserPasskey',
    summary:
      'Remove one passkey of the account (a lost device): it signs nobody in afterwards; the person is mailed a security notice',
    tag: 'Users',
    params: { ...params, passkeyId: 'the passkey id (uuid), as the list gives it' },
    etag: 'read',
    response: { status: 200, description: 'The user', schema: userViewSchema },
    errors: [404],
    handle: async ({ deps, params, by }) => {
      const { name } = await removeUserPasskey(deps.pool, params.id!, params.passkeyId!, by);
      await sendSecurityNotice(deps.mail?.mail, params.id!, 'passkey_removed', {
        by: 'admin',
        passkeyName: name,
      });
      return userReply(deps, params.id!, by);
    },
  },
  {
    method: 'get',
    path: '/users/{id}/apps',
    operationId: 'listUserApps',
    summary:
      'The applications holding access to the account (what the person sees under “Apps with access” on /account): remembered consents and live grants',
    tag: 'Users',
    params,
    response: {
      status: 200,
      description: 'The applications, most recent first',
      schema: z.object({ items: z.array(userAppView) }),
    },
    errors: [404],
    handle: async ({ deps, params }) => ({ body: { items: await listUserApps(deps.pool, params.id!) } }),
  },
  {
    method: 'delete',
    path: '/users/{id}/apps/{clientId}',
    operationId: 'removeUserAppAccess',
    summary:
      'Take back one application’s access to the account: its remembered consent and every grant given to it end, with their codes and refresh tokens; its next sign-in asks again',
    tag: 'Users',
    params: { ...params, clientId: 'the client id, as the list gives it' },
    response: {
      status: 200,
      description: 'The applications still holding access',
      schema: z.object({ items: z.array(userAppView) }),
    },
    errors: [404],
    handle: async ({ deps, params, by }) => {
      await removeUserAppAccess(deps.pool, params.id!, params.clientId!, by);
      return { body: { items: await listUserApps(deps.pool, params.id!) } };
    },
  },
  userAction({
    path: '/users/{id}/passkeys/reset',
    operationId: 'resetUserPasskeys',
    summary:
      'Remove every passkey of the account (as `lock users passkeys-reset NAME`): the person signs in with the password, and adds a passkey again on /account',
    act: async ({ deps, params, by }) => {
      const { removed } = await resetPasskeysById(deps.pool, params.id!, by);
      if (removed > 0)
        await sendSecurityNotice(deps.mail?.mail, params.id!, 'passkey_removed', { by: 'admin' });
    },
  }),
];
