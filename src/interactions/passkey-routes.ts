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
import { localeFor } from '../web/locale.ts';
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
  /** `message`: a catalogue key, shown in the sign-in's language. */
  const refused = (ctx: Context, found: Details, status: number, error: string, message: string) =>
    answer(ctx, status, { error, message: localeFor(ctx, found.params.ui_locales).t(message) });
  /** A body that is not what the script sends: the field named, in English (no person typed it). */
  const invalid = (ctx: Context, message: string) => answer(ctx, 400, { error: 'invalid_request', message });

  /** The call's body and the interaction, if it is a login's and its CSRF token is `subject`'s. */
  async function accept(
    ctx: Context,
    subjectOf: (found: Details) => Promise<string | undefined>,
  ): Promise<{ found: Details; response: unknown } | undefined> {
    const found = await options.details(ctx);
    const parsed = call.safeParse(await readJson(ctx));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      invalid(ctx, `${issue.path.join('.') || 'body'}: ${issue.message}`);
      return undefined;
    }
    if (found.prompt.name !== 'login') {
      invalid(ctx, 'this sign-in is not waiting for a login');
      return undefined;
    }
    const subject = await subjectOf(found);
    if (subject === undefined || !csrf.isValid(subject, parsed.data.csrf)) {
      refused(ctx, found, 403, 'expired', 'passkey.errors.expired');
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
      return refused(ctx, accepted.found, 404, 'not_found', 'passkey.errors.not_offered');
    answer(ctx, 200, await passkeys.signInOptions(signInRequest(ctx, accepted.found)));
  });

  router.post('/passkey/verify', async (ctx) => {
    const accepted = await accept(ctx, loginSubject);
    if (!accepted) return;
    const { found } = accepted;
    const local = localAccountsOf(options.connectors(), found.params.connector);
    if (!local) return refused(ctx, found, 404, 'not_found', 'passkey.errors.not_offered');
    const outcome = await passkeys.signIn(signInRequest(ctx, found), accepted.response, local);
    switch (outcome.status) {
      case 'invalid':
        return invalid(ctx, outcome.message);
      case 'failed':
        return refused(ctx, found, 401, 'access_denied', outcome.message);
      case 'interaction-spent':
        return refused(ctx, found, 429, 'too_many_attempts', 'passkey.errors.too_many');
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
    if (!pending) return refused(ctx, accepted.found, 409, 'step_ended', 'passkey.errors.step_ended');
    answer(ctx, 200, await passkeys.secondFactorOptions(signInRequest(ctx, accepted.found), pending));
  });

  router.post('/totp/passkey/verify', async (ctx) => {
    const accepted = await accept(ctx, stepSubject);
    if (!accepted) return;
    const { found } = accepted;
    const pending = await pendingOf(found);
    if (!pending) return refused(ctx, found, 409, 'step_ended', 'passkey.errors.step_ended');
    const outcome = await passkeys.verifySecondFactor(signInRequest(ctx, found), pending, accepted.response);
    switch (outcome.status) {
      case 'invalid':
        return invalid(ctx, outcome.message);
      case 'wrong-code':
        return refused(ctx, found, 401, 'access_denied', 'passkey.errors.step_refused');
      case 'too-many-codes':
        return refused(ctx, found, 429, 'too_many_attempts', 'passkey.errors.too_many');
      case 'step-ended':
        return refused(ctx, found, 409, 'step_ended', 'passkey.errors.step_ended');
      case 'signed-in':
        return answer(ctx, 200, {
          location: await options.resultLocation(ctx, { login: { ...outcome.login, remember: true } }),
        });
    }
  });
}
