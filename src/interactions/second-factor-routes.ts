// The pages of a local account's second step (src/login/second-factor.ts): the TOTP code, the
// enrolment of an authenticator app and its recovery codes. These routes parse the form, call the
// login library, then render or redirect; the step's state and its rules are the library's.
import type Router from '@koa/router';
import type Koa from 'koa';
import type { InteractionResults } from 'oidc-provider';
import type { PendingSecondFactor, SecondFactor } from '../login/second-factor.ts';
import { readForm } from '../web/form-body.ts';
import { localeFor } from '../web/locale.ts';
import type { LockState } from '../web/lock-state.ts';
import { qrCodeDataUri } from '../web/qr-code.ts';
import type { createCsrf } from './csrf.ts';
import { sendErrorPage } from './error-page.ts';
import { type Details, signInRequest } from './interaction-request.ts';
import { contentSecurityPolicy, renderView } from './views.ts';

type Context = Koa.ParameterizedContext<LockState>;

export interface SecondFactorRoutesOptions {
  secondFactor: SecondFactor;
  /** Offers the account's passkeys on the step's page (src/interactions/passkey-routes.ts answers them). */
  hasPasskey?: (userId: string) => Promise<boolean>;
  csrf: ReturnType<typeof createCsrf>;
  details: (ctx: Context) => Promise<Details>;
  finish: (ctx: Context, result: InteractionResults) => Promise<void>;
  /** The login form again; `error` is a catalogue key (views/locales/en.json). */
  showLogin: (ctx: Context, found: Details, extra: { username?: string; error?: string }) => void;
}

/**
 * The step's forms (and its passkey calls) carry a token bound to the interaction and the account:
 * a form shown for one account's step is refused once the interaction waits for another's.
 */
export const csrfSubject = (pending: PendingSecondFactor) =>
  `${pending.interactionUid}:second-factor:${pending.userId}`;

// Replayed, wrong and locked-out codes all read the same. (Messages are catalogue keys.)
const WRONG_CODE = 'totp.errors.wrong_code';

export function secondFactorRoutes(options: SecondFactorRoutesOptions) {
  const { secondFactor, csrf } = options;
  const stepPath = (uid: string) => `/interaction/${uid}/totp`;

  const toLogin = (ctx: Context, uid: string) => {
    ctx.status = 303;
    ctx.redirect(`/interaction/${uid}`);
  };

  const toStep = (ctx: Context, uid: string) => {
    ctx.status = 303;
    ctx.redirect(stepPath(uid));
  };

  /** The interaction and its waiting second factor; undefined (and a redirect to the login page) when none waits. */
  async function waiting(
    ctx: Context,
    form?: URLSearchParams,
  ): Promise<{ found: Details; pending: PendingSecondFactor } | undefined> {
    const found = await options.details(ctx);
    if (found.prompt.name !== 'login') ctx.throw(400, 'not waiting for a login');
    const pending = await secondFactor.waiting(found.uid);
    if (!pending) {
      toLogin(ctx, found.uid);
      return undefined;
    }
    if (form && !csrf.isValid(csrfSubject(pending), form.get('csrf'))) {
      sendErrorPage(ctx, {
        status: 403,
        title: 'errors.form_expired.title',
        message: 'errors.start_again',
        uiLocales: found.params.ui_locales,
      });
      return undefined;
    }
    return { found, pending };
  }

  async function show(
    ctx: Context,
    found: Details,
    pending: PendingSecondFactor,
    extra: { error?: string; errorValues?: Record<string, string>; codes?: string[] } = {},
  ): Promise<void> {
    const locale = localeFor(ctx, found.params.ui_locales);
    const csrfToken = csrf.tokenFor(csrfSubject(pending));
    const restartHref = `${stepPath(found.uid)}/restart?csrf=${encodeURIComponent(csrfToken)}`;
    const common = {
      formAction: stepPath(found.uid),
      csrfToken,
      ...(extra.error !== undefined && { error: locale.t(extra.error, extra.errorValues) }),
    };
    let body: string;
    if (pending.stage === 'enrol') {
      const { secret, otpauthUri } = secondFactor.enrolment(pending);
      body = renderView(
        'totp-enrol',
        {
          ...common,
          username: pending.username,
          qrCode: await qrCodeDataUri(otpauthUri),
          secret,
          otpauthUri,
          restartHref,
        },
        locale,
      );
    } else if (pending.stage === 'verify') {
      const passkey = (await options.hasPasskey?.(pending.userId)) ?? false;
      body = renderView(
        'totp-verify',
        {
          ...common,
          username: pending.username,
          restartHref,
          codes: !pending.passkeyOnly && (await secondFactor.hasAuthenticatorApp(pending.userId)),
          ...(passkey && {
            passkey: {
              optionsUrl: `${stepPath(found.uid)}/passkey/options`,
              verifyUrl: `${stepPath(found.uid)}/passkey/verify`,
            },
          }),
        },
        locale,
      );
    } else {
      body = renderView(
        'totp-recovery-codes',
        {
          codes: extra.codes ?? [],
          formAction: `${stepPath(found.uid)}/continue`,
          csrfToken: common.csrfToken,
        },
        locale,
      );
    }
    // These forms end in a redirect to the client: its origin must be a form-action.
    const redirectUri = found.params.redirect_uri;
    ctx.set(
      'Content-Security-Policy',
      contentSecurityPolicy(typeof redirectUri === 'string' ? [redirectUri] : [], { scripts: true }),
    );
    ctx.set('Content-Language', locale.language);
    ctx.type = 'html';
    ctx.body = body;
  }

  async function verify(ctx: Context, found: Details, pending: PendingSecondFactor, input: string) {
    const outcome = await secondFactor.verify(signInRequest(ctx, found), pending, input);
    switch (outcome.status) {
      case 'signed-in':
        return options.finish(ctx, { login: { ...outcome.login, remember: true } });
      case 'step-ended':
        return toLogin(ctx, found.uid);
      case 'too-many-codes':
        ctx.status = 401;
        return options.showLogin(ctx, found, {
          username: pending.username,
          error: 'totp.errors.too_many_codes',
        });
      case 'wrong-code':
        ctx.status = 401;
        return show(ctx, found, pending, { error: WRONG_CODE });
    }
  }

  async function confirmEnrolment(ctx: Context, found: Details, pending: PendingSecondFactor, input: string) {
    const outcome = await secondFactor.confirmEnrolment(signInRequest(ctx, found), pending, input);
    switch (outcome.status) {
      case 'wrong-code':
        ctx.status = 400;
        return show(ctx, found, pending, { error: WRONG_CODE });
      case 'step-changed':
        return toStep(ctx, found.uid);
      case 'enrolled-elsewhere':
        ctx.status = 409;
        return show(ctx, found, outcome.pending, {
          error: 'totp.errors.enrolled_elsewhere',
        });
      case 'enrolled':
        return show(ctx, found, outcome.pending, { codes: outcome.recoveryCodes });
    }
  }

  /**
   * While a second factor waits in this interaction, no password is taken (it would not change
   * whose sign-in this is); the person is shown the waiting step and its "Sign in as someone
   * else", which ends it. True when refused.
   */
  async function passwordRefusedWhilePending(ctx: Context, found: Details): Promise<boolean> {
    const pending = await secondFactor.waiting(found.uid);
    if (!pending) return false;
    ctx.status = 409;
    await show(ctx, found, pending, {
      error: 'totp.errors.waiting_for_other',
      errorValues: { username: pending.username },
    });
    return true;
  }

  return {
    /** Called first by the login form's POST (and when its password lost the race to another's step). */
    passwordRefusedWhilePending,
    /** To the step's page, once the library started it. */
    toStep,
    toLogin,

    /** GET/POST /totp, POST /totp/continue and GET /totp/restart on the interaction router. */
    register(router: Router<LockState>): void {
      router.get('/totp', async (ctx) => {
        const step = await waiting(ctx);
        if (step) await show(ctx, step.found, step.pending);
      });

      router.post('/totp', async (ctx) => {
        const form = await readForm(ctx);
        const step = await waiting(ctx, form);
        if (!step) return;
        const { found, pending } = step;
        const input = (form.get('code') ?? '').trim().slice(0, 64);
        if (pending.stage === 'recovery-codes') return show(ctx, found, pending);
        if (input === '') {
          ctx.status = 400;
          return show(ctx, found, pending, { error: 'totp.errors.code_required' });
        }
        if (pending.stage === 'enrol') return confirmEnrolment(ctx, found, pending, input);
        return verify(ctx, found, pending, input);
      });

      router.post('/totp/continue', async (ctx) => {
        const form = await readForm(ctx);
        const step = await waiting(ctx, form);
        if (!step) return;
        if (step.pending.stage !== 'recovery-codes') return toStep(ctx, step.found.uid);
        const outcome = await secondFactor.complete(signInRequest(ctx, step.found), step.pending);
        if (outcome.status === 'step-ended') return toLogin(ctx, step.found.uid);
        await options.finish(ctx, { login: { ...outcome.login, remember: true } });
      });

      // "Sign in as someone else": ends the waiting step (the link carries the step's CSRF token),
      // so that the login form takes a password again.
      router.get('/totp/restart', async (ctx) => {
        const step = await waiting(ctx, new URLSearchParams({ csrf: String(ctx.query.csrf ?? '') }));
        if (!step) return;
        await secondFactor.cancel(step.pending);
        toLogin(ctx, step.found.uid);
      });
    },
  };
}
