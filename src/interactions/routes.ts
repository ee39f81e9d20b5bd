import Router from '@koa/router';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import { z } from 'zod';
import {
  type ConnectorInfo,
  isPasswordConnector,
  isRedirectConnector,
  type PasswordConnector,
} from '../connectors/connector.ts';
import type { PasskeySignIn } from '../login/passkeys.ts';
import type { PasswordSignIn } from '../login/password-sign-in.ts';
import type { SecondFactor } from '../login/second-factor.ts';
import { readForm } from '../web/form-body.ts';
import { localeFor } from '../web/locale.ts';
import type { LockState } from '../web/lock-state.ts';
import { createCsrf } from './csrf.ts';
import { sendErrorPage } from './error-page.ts';
import { type Details, signInRequest } from './interaction-request.ts';
import { localAccountsOf, registerPasskeyRoutes } from './passkey-routes.ts';
import { secondFactorRoutes } from './second-factor-routes.ts';
import { contentSecurityPolicy, renderView } from './views.ts';

export interface InteractionOptions {
  provider: () => Provider;
  connectors: () => ReadonlyMap<string, ConnectorInfo>;
  clientName: (clientId: string) => string;
  /**
   * A dynamically registered client's own name ('' when it gave none); undefined for a declared
   * client. The consent page marks it as registered itself, not vouched for.
   */
  registeredClientName?: (clientId: string) => Promise<string | undefined>;
  csrfKey: Buffer;
  /** The sign-in library (src/login/): these routes parse, call it, then render or redirect. */
  passwordSignIn: PasswordSignIn;
  secondFactor: SecondFactor;
  /** Passkey sign-in (docs/passkeys.md): offered on the login page when the local connector serves it. */
  passkeys?: PasskeySignIn;
  /** The password-reset page (docs/email.md), offered under the form when Lock's own accounts are on. */
  passwordResetHref?: string;
  /**
   * A login that already happened for this browser and this interaction's client (an IdP-initiated
   * SAML login, see sso-routes.ts): when it gives one, the login step finishes with it, no page.
   */
  pendingLogin?: (
    ctx: Koa.ParameterizedContext<LockState>,
    found: Details,
  ) => Promise<InteractionResults | undefined>;
}

// The form's refusals are keys of the message catalogue (views/locales/), shown in the page's language.
const loginForm = z.object({
  username: z
    .string()
    .trim()
    .min(1, 'login.errors.username_required')
    .max(256, 'login.errors.username_too_long'),
  // Verified exactly as typed: no trimming. Empty is refused before any connector sees it.
  password: z.string().min(1, 'login.errors.password_required').max(1024, 'login.errors.password_too_long'),
});

/** The login, consent and abort steps of oidc-provider's interactions, served by Lock's own pages. */
export function interactionRoutes(options: InteractionOptions): Router<LockState> {
  const router = new Router<LockState>({ prefix: '/interaction/:uid' });
  const csrf = createCsrf(options.csrfKey);

  // Every page of the flow: never cached, never framed, forms only to Lock and the client's redirect.
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    try {
      await next();
    } catch (error) {
      if (
        (error as { name?: string }).name !== 'SessionNotFound' &&
        (error as { status?: number }).status !== 400
      )
        throw error;
      renderError(ctx, 400, 'errors.sign_in_expired.title', 'errors.start_again');
    }
  });

  const details = async (ctx: Koa.ParameterizedContext<LockState>): Promise<Details> => {
    const found = await options.provider().interactionDetails(ctx.req, ctx.res);
    if (found.uid !== ctx.params.uid) ctx.throw(400, 'interaction mismatch');
    return found;
  };

  /** The login form; `error` is a key of the message catalogue (`login.errors.*`). */
  const showLogin = (
    ctx: Koa.ParameterizedContext<LockState>,
    found: Details,
    { error, ...extra }: { username?: string; error?: string } = {},
  ) => {
    const locale = localeFor(ctx, found.params.ui_locales);
    const hint = found.params.login_hint;
    const ssoConnectors = [...options.connectors().values()].filter(isRedirectConnector).map((connector) => ({
      id: connector.id,
      name: connector.name,
      href: `/interaction/${found.uid}/sso/${connector.id}`,
    }));
    const passkey =
      options.passkeys !== undefined &&
      localAccountsOf(options.connectors(), found.params.connector) !== undefined;
    const localAccounts = [...options.connectors().values()].some((connector) => connector.type === 'local');
    renderPage(ctx, found, 'login', {
      clientName: options.clientName(String(found.params.client_id)),
      ...(options.passwordResetHref !== undefined &&
        localAccounts && { resetHref: options.passwordResetHref }),
      formAction: `/interaction/${found.uid}/login`,
      csrfToken: csrf.tokenFor(found.uid),
      ssoConnectors,
      ...(passkey && {
        passkey: {
          optionsUrl: `/interaction/${found.uid}/passkey/options`,
          verifyUrl: `/interaction/${found.uid}/passkey/verify`,
        },
      }),
      ...(typeof hint === 'string' && { loginHint: hint }),
      ...extra,
      ...(error !== undefined && { error: locale.t(error) }),
    });
  };

  const secondFactor = secondFactorRoutes({
    secondFactor: options.secondFactor,
    ...(options.passkeys && { hasPasskey: options.passkeys.hasPasskey.bind(options.passkeys) }),
    csrf,
    details,
    finish,
    showLogin,
  });
  secondFactor.register(router);
  if (options.passkeys)
    registerPasskeyRoutes(router, {
      passkeys: options.passkeys,
      secondFactor: options.secondFactor,
      connectors: options.connectors,
      csrf,
      details,
      resultLocation: (ctx, result) =>
        options.provider().interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }),
    });

  router.get('/', async (ctx) => {
    const found = await details(ctx);
    const pending = found.prompt.name === 'login' ? await options.pendingLogin?.(ctx, found) : undefined;
    if (pending) return finish(ctx, pending);
    // `connector=<id>` naming a redirecting (SSO) connector skips the choice: straight to that IdP.
    const chosen = options.connectors().get(String(found.params.connector));
    if (found.prompt.name === 'login' && isRedirectConnector(chosen)) {
      ctx.status = 303;
      return ctx.redirect(`/interaction/${found.uid}/sso/${encodeURIComponent(chosen.id)}`);
    }
    if (found.prompt.name === 'login') return showLogin(ctx, found);
    if (found.prompt.name === 'consent') {
      const resourceScopes = (found.prompt.details.missingResourceScopes ?? {}) as Record<string, string[]>;
      const clientId = String(found.params.client_id);
      const registered = await options.registeredClientName?.(clientId);
      const { t } = localeFor(ctx, found.params.ui_locales);
      renderPage(ctx, found, 'consent', {
        clientName:
          registered === undefined
            ? options.clientName(clientId)
            : t('consent.registered_client', { name: registered || t('common.an_application') }),
        scopes: [
          ...((found.prompt.details.missingOIDCScope as string[] | undefined) ?? []),
          ...Object.values(resourceScopes).flat(),
        ],
        resources: Object.keys(resourceScopes),
        formAction: `/interaction/${found.uid}/confirm`,
        cancelAction: `/interaction/${found.uid}/abort`,
        csrfToken: csrf.tokenFor(found.uid),
      });
      return;
    }
    ctx.throw(400, `unsupported prompt ${found.prompt.name}`);
  });

  router.post('/login', async (ctx) => {
    const found = await details(ctx);
    if (found.prompt.name !== 'login') ctx.throw(400, 'not waiting for a login');
    if (await secondFactor.passwordRefusedWhilePending(ctx, found)) return;
    const form = await readForm(ctx);
    if (!csrf.isValid(found.uid, form.get('csrf'))) {
      renderError(ctx, 403, 'errors.form_expired.title', 'errors.start_again', found);
      return;
    }
    const parsed = loginForm.safeParse({
      username: form.get('username') ?? '',
      password: form.get('password') ?? '',
    });
    if (!parsed.success) {
      ctx.status = 400;
      return showLogin(ctx, found, {
        username: form.get('username') ?? '',
        error: parsed.error.issues[0]!.message,
      });
    }
    const { username, password } = parsed.data;
    const outcome = await options.passwordSignIn.signIn(signInRequest(ctx, found), {
      connectors: passwordConnectorsFor(found),
      username,
      password,
      log: ctx.state.log,
    });
    switch (outcome.status) {
      case 'busy':
        // Nothing was counted or checked: the same form, to be sent again shortly.
        ctx.status = 503;
        ctx.set('Retry-After', String(outcome.retryAfterSeconds));
        return showLogin(ctx, found, { username, error: 'login.errors.busy' });
      case 'interaction-spent':
        renderError(ctx, 429, 'errors.too_many_attempts.title', 'errors.start_again', found);
        return;
      case 'failed':
      case 'unavailable':
        ctx.status = outcome.status === 'unavailable' ? 503 : 401;
        return showLogin(ctx, found, { username, error: outcome.message });
      case 'second-factor':
        return secondFactor.toStep(ctx, found.uid);
      case 'passkey-required':
        ctx.status = 403;
        return showLogin(ctx, found, { username, error: outcome.message });
      case 'another-second-factor-waiting':
        if (!(await secondFactor.passwordRefusedWhilePending(ctx, found)))
          secondFactor.toLogin(ctx, found.uid);
        return;
      case 'signed-in':
        return finish(ctx, { login: { ...outcome.login, remember: true } });
    }
  });

  router.post('/confirm', async (ctx) => {
    const found = await details(ctx);
    const form = await readForm(ctx);
    if (found.prompt.name !== 'consent' || !csrf.isValid(found.uid, form.get('csrf')))
      ctx.throw(400, 'not waiting for consent');
    const provider = options.provider();
    const grant = found.grantId
      ? (await provider.Grant.find(found.grantId))!
      : new provider.Grant({ accountId: found.session!.accountId, clientId: String(found.params.client_id) });
    const promptDetails = found.prompt.details;
    if (promptDetails.missingOIDCScope)
      grant.addOIDCScope((promptDetails.missingOIDCScope as string[]).join(' '));
    if (promptDetails.missingOIDCClaims) grant.addOIDCClaims(promptDetails.missingOIDCClaims as string[]);
    for (const [indicator, scopes] of Object.entries(
      (promptDetails.missingResourceScopes ?? {}) as Record<string, string[]>,
    ))
      grant.addResourceScope(indicator, scopes.join(' '));
    await finish(ctx, { consent: { grantId: await grant.save() } });
  });

  router.post('/abort', async (ctx) => {
    const found = await details(ctx);
    const form = await readForm(ctx);
    if (!csrf.isValid(found.uid, form.get('csrf'))) ctx.throw(400, 'invalid form');
    await finish(ctx, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' });
  });

  /** The password connectors to try, in order; `connector=<id>` narrows it to one. */
  function passwordConnectorsFor(found: Details): PasswordConnector[] {
    const all = [...options.connectors().values()].filter(isPasswordConnector);
    const chosen = found.params.connector;
    return typeof chosen === 'string' ? all.filter((connector) => connector.id === chosen) : all;
  }

  async function finish(ctx: Koa.ParameterizedContext<LockState>, result: InteractionResults) {
    const redirectTo = await options
      .provider()
      .interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(redirectTo);
  }

  return router;
}

function renderPage<N extends 'login' | 'consent'>(
  ctx: Koa.ParameterizedContext<LockState>,
  found: Details,
  view: N,
  data: Parameters<typeof renderView<N>>[1],
) {
  const redirectUri = found.params.redirect_uri;
  const locale = localeFor(ctx, found.params.ui_locales);
  // The login page's passkey script is Lock's own, from /assets.
  ctx.set(
    'Content-Security-Policy',
    contentSecurityPolicy(typeof redirectUri === 'string' ? [redirectUri] : [], {
      scripts: view === 'login',
    }),
  );
  ctx.set('Content-Language', locale.language);
  ctx.type = 'html';
  ctx.body = renderView(view, data, locale);
}

/** The error page; `title` and `message` are catalogue keys, in the interaction's language when there is one. */
function renderError(
  ctx: Koa.ParameterizedContext<LockState>,
  status: number,
  title: string,
  message: string,
  found?: Details,
) {
  sendErrorPage(ctx, { status, title, message, uiLocales: found?.params.ui_locales });
}
