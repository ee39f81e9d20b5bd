// The passkey ceremonies of a sign-in, as JSON endpoints the pages' script calls
// (views/assets/passkey.js): the login page's passwordless sign-in and the second step's passkey.
//   POST /interaction/:uid/passkey/options        {csrf}            → navigator.credentials.get() options
//   POST /interaction/:uid/passkey/verify         {csrf, response}  → {location} | {error, message}
//   POST /interaction/:uid/totp/passkey/options   (the same, for the account whose password was right)
//   POST /interaction/:uid/totp/passkey/verify
// The library (src/login/passkeys.ts) decides; these routes parse, call it, and answer.
import type Router from '@koa/router';
import type Koa from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { z } from 'zod';
import { type ConnectorInfo, isRefreshConnector } from '../connectors/connector.ts';
import type { LocalAccounts, PasskeySignIn } from '../login/passkeys.ts';
import type { SecondFactor } from '../login/second-factor.ts';
import { readJson } from '../web/json-body.ts';
import type { LockState } from '../web/lock-state.ts';
import type { createCsrf } from './csrf.ts';
import { type Details, signInRequest } from './interaction-request.ts';
import { csrfSubject } from './second-factor-routes.ts';

type Context = Koa.ParameterizedContext<LockState>;

export interface PasskeyRoutesOptions {
  passkeys: PasskeySignIn;
  secondFactor: SecondFactor;
  connectors: () => ReadonlyMap<string, ConnectorInfo>;
  csrf: ReturnType<typeof createCsrf>;
  details: (ctx: Context) => Promise<Details>;
  /** Hands the result to oidc-provider and gives back where the browser goes next. */
  resultLocation: (ctx: Context, result: InteractionResults) => Promise<string>;
}

const call = z.object({ csrf: z.string().max(256), response: z.unknown().optional() });

/** The local connector, when it is configured (passkeys belong to its accounts) and the sign-in may use it. */
export function localAccountsOf(
  connectors: ReadonlyMap<string, ConnectorInfo>,
  chosen: unknown,
): LocalAccounts | undefined {
  for (const connector of connectors.values())
    if (connector.type === 'local' && isRefreshConnector(connector))
      return typeof chosen === 'string' && chosen !== connector.id ? undefined : connector;
  return undefined;
}

export function registerPasskeyRoutes(router: Router<LockState>, options: PasskeyRoutesOptions): void {
  const { passkeys, secondFactor, csrf } = options;

  const answer = (ctx: Context, status: number, body: object) => {
    ctx.status = status;
    ctx.type = 'application/json';
    ctx.body = body;
  };
  const refused = (ctx: Context, status: number, error: string, message: string) =>
    answer(ctx, status, { error, message });

  /** The call's body and the interaction, if it is a login's and its CSRF token is `subject`'s. */
  async function accept(
    ctx: Context,
    subjectOf: (found: Details) => Promise<string | undefined>,
  ): Promise<{ found: Details; response: unknown } | undefined> {
    const found = await options.details(ctx);
    const parsed = call.safeParse(await readJson(ctx));
    if (!parsed.success) {
      refused(
        ctx,
        400,
        'invalid_request',
        `${parsed.error.issues[0]!.path.join('.') || 'body'}: ${parsed.error.issues[0]!.message}`,
      );
      return undefined;
    }
    if (found.prompt.name !== 'login') {
      refused(ctx, 400, 'invalid_request', 'this sign-in is not waiting for a login');
      return undefined;
    }
    const subject = await subjectOf(found);
    if (subject === undefined || !csrf.isValid(subject, parsed.data.csrf)) {
      refused(ctx, 403, 'expired', 'This sign-in form has expired. Reload the page.');
      return undefined;
    }
    return { found, response: parsed.data.response };
  }

  // The login page: any passkey of this site; refused while another account's second step waits.
  const loginSubject = async (found: Details) =>
    (await secondFactor.waiting(found.uid)) ? undefined : found.uid;

  router.post('/passkey/options', async (ctx) => {
    const accepted = await accept(ctx, loginSubject);
    if (!accepted) return;
    if (!localAccountsOf(options.connectors(), accepted.found.params.connector))
      return refused(ctx, 404, 'not_found', 'Passkeys are not offered for this sign-in.');
    answer(ctx, 200, await passkeys.signInOptions(signInRequest(ctx, accepted.found)));
  });

  router.post('/passkey/verify', async (ctx) => {
    const accepted = await accept(ctx, loginSubject);
    if (!accepted) return;
    const local = localAccountsOf(options.connectors(), accepted.found.params.connector);
    if (!local) return refused(ctx, 404, 'not_found', 'Passkeys are not offered for this sign-in.');
    const outcome = await passkeys.signIn(signInRequest(ctx, accepted.found), accepted.response, local);
    switch (outcome.status) {
      case 'invalid':
        return refused(ctx, 400, 'invalid_request', outcome.message);
      case 'failed':
        return refused(ctx, 401, 'access_denied', outcome.message);
      case 'interaction-spent':
        return refused(
          ctx,
          429,
          'too_many_attempts',
          'Too many attempts. Go back to the application and start again.',
        );
      case 'signed-in':
        return answer(ctx, 200, {
          location: await options.resultLocation(ctx, { login: { ...outcome.login, remember: true } }),
        });
    }
  });

  // The second step: only the account whose password was right, with the step's own CSRF token.
  const pendingOf = (found: Details) => secondFactor.waiting(found.uid);
  const stepSubject = async (found: Details) => {
    const pending = await pendingOf(found);
    return pending && pending.stage === 'verify' ? csrfSubject(pending) : undefined;
  };

  router.post('/totp/passkey/options', async (ctx) => {
    const accepted = await accept(ctx, stepSubject);
    if (!accepted) return;
    const pending = await pendingOf(accepted.found);
    if (!pending) return refused(ctx, 409, 'step_ended', 'This sign-in step has ended. Reload the page.');
    answer(ctx, 200, await passkeys.secondFactorOptions(signInRequest(ctx, accepted.found), pending));
  });

  router.post('/totp/passkey/verify', async (ctx) => {
    const accepted = await accept(ctx, stepSubject);
    if (!accepted) return;
    const pending = await pendingOf(accepted.found);
    if (!pending) return refused(ctx, 409, 'step_ended', 'This sign-in step has ended. Reload the page.');
    const outcome = await passkeys.verifySecondFactor(
      signInRequest(ctx, accepted.found),
      pending,
      accepted.response,
    );
    switch (outcome.status) {
      case 'invalid':
        return refused(ctx, 400, 'invalid_request', outcome.message);
      case 'wrong-code':
        return refused(ctx, 401, 'access_denied', 'That passkey could not be used. Try again.');
      case 'too-many-codes':
        return answer(ctx, 429, {
          error: 'too_many_attempts',
          message: 'Too many attempts. Sign in again.',
          location: `/interaction/${accepted.found.uid}`,
        });
      case 'step-ended':
        return refused(ctx, 409, 'step_ended', 'This sign-in step has ended. Reload the page.');
      case 'signed-in':
        return answer(ctx, 200, {
          location: await options.resultLocation(ctx, { login: { ...outcome.login, remember: true } }),
        });
    }
  });
}
