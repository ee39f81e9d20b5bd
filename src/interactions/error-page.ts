import type Koa from 'koa';
import type { MessageValues } from '../web/i18n.ts';
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
}

/**
 * The one HTML error page: interactions, SAML refusals, oidc-provider's renderError, the edge's
 * refusals and the error mapper all answer a browser with it. Never cached; no form, so LOCK_CSP.
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
    },
    locale,
  );
}
