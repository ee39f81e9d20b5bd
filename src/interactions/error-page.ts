import type Koa from 'koa';
import type { ProtocolProblem } from '../oidc/provider.ts';
import type { Locale, MessageValues } from '../web/i18n.ts';
import { type LocaleContext, localeFor } from '../web/locale.ts';
import { LOCK_CSP, renderView } from './views.ts';

/** What the page needs of a Koa context (Lock's own, or oidc-provider's). */
export type PageContext = Pick<Koa.Context, 'set'> &
  LocaleContext & {
    status: number;
    type: string;
    body: unknown;
    state: { requestId?: string };
  };

export interface ErrorPage {
  /** The answer's status; left as it is when omitted (oidc-provider sets its own). */
  status?: number;
  /** Keys of the message catalogue (views/locales/en.json, `errors.*`): the heading and the text. */
  title: string;
  message: string;
  /** The placeholders of `title` and `message` (`{{idp}}`). */
  values?: MessageValues;
  /** The interaction's `ui_locales`, when the page answers one (else Accept-Language decides). */
  uiLocales?: unknown;
  /** Shown so that a person can quote it to an administrator; the request's own id by default. */
  requestId?: string;
  /** A way back: the client's home, only for a client an administrator declared. */
  back?: { href: string; name: string };
  /** For the application's developers (collapsed): the error code, its description, what was sent. */
  developer?: { error?: string; description?: string; clientId?: string; redirectUri?: string };
}

/**
 * The one HTML error page: interactions, SAML refusals, oidc-provider's renderError, the edge's
 * refusals and the error mapper all answer a browser with it: plain words in the person's language,
 * a way back when one is known, the request id to quote, and the developer detail folded away.
 * Never cached; no form, so LOCK_CSP.
 */
export function sendErrorPage(ctx: PageContext, page: ErrorPage): void {
  if (page.status !== undefined) ctx.status = page.status;
  const locale = localeFor(ctx, page.uiLocales);
  const requestId = page.requestId ?? ctx.state.requestId;
  ctx.set('Content-Security-Policy', LOCK_CSP);
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Language', locale.language);
  ctx.type = 'html';
  ctx.body = renderView(
    'error',
    {
      title: locale.t(page.title, page.values),
      message: locale.t(page.message, page.values),
      ...(requestId !== undefined && requestId !== '' && { requestId }),
      ...(page.back && { back: page.back }),
      details: developerDetails(locale, page.developer ?? {}),
    },
    locale,
  );
}

/** A protocol error oidc-provider could not send back to the client, as the error page (its status kept). */
export function sendProtocolErrorPage(ctx: PageContext, problem: ProtocolProblem, uiLocales?: unknown): void {
  const kind = protocolErrorKind(problem);
  sendErrorPage(ctx, {
    title: `${kind}.title`,
    message: `${kind}.message`,
    uiLocales,
    ...(problem.back && { back: problem.back }),
    developer: {
      error: problem.error,
      ...(problem.description !== undefined && { description: problem.description }),
      ...(problem.clientId !== undefined && { clientId: problem.clientId }),
      ...(problem.redirectUri !== undefined && { redirectUri: problem.redirectUri }),
    },
  });
}

// OAuth error codes, as the person at the page should read them (catalogue `errors.oidc.*`).
const PROTOCOL_ERRORS: Record<string, string> = {
  invalid_redirect_uri: 'errors.oidc.invalid_redirect_uri',
  redirect_uri_mismatch: 'errors.oidc.invalid_redirect_uri',
  invalid_client: 'errors.oidc.invalid_client',
  unauthorized_client: 'errors.oidc.unauthorized_client',
  unsupported_response_type: 'errors.oidc.unauthorized_client',
  invalid_request: 'errors.oidc.invalid_request',
  invalid_request_object: 'errors.oidc.invalid_request',
  invalid_request_uri: 'errors.oidc.invalid_request',
  request_not_supported: 'errors.oidc.invalid_request',
  request_uri_not_supported: 'errors.oidc.invalid_request',
  invalid_scope: 'errors.oidc.invalid_scope',
  invalid_target: 'errors.oidc.invalid_target',
  access_denied: 'errors.oidc.access_denied',
  server_error: 'errors.server_error',
  temporarily_unavailable: 'errors.temporarily_unavailable',
};

function protocolErrorKind(problem: ProtocolProblem): string {
  // An interaction whose cookie is gone (expired, another browser): oidc-provider says invalid_request.
  if (problem.name === 'SessionNotFound') return 'errors.oidc.session_expired';
  return PROTOCOL_ERRORS[problem.error] ?? 'errors.oidc.generic';
}

function developerDetails(locale: Locale, developer: NonNullable<ErrorPage['developer']>) {
  const { t } = locale;
  return [
    { label: t('errors.detail.error'), value: developer.error },
    { label: t('errors.detail.description'), value: developer.description },
    { label: t('errors.detail.client_id'), value: developer.clientId },
    { label: t('errors.detail.redirect_uri'), value: developer.redirectUri },
  ].filter(
    (detail): detail is { label: string; value: string } => detail.value !== undefined && detail.value !== '',
  );
}
