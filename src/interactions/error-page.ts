import type Koa from 'koa';
import { LOCK_CSP, renderView } from './views.ts';

/** What the page needs of a Koa context (Lock's own, or oidc-provider's). */
export type PageContext = Pick<Koa.Context, 'set'> & { status: number; type: string; body: unknown };

export interface ErrorPage {
  /** The answer's status; left as it is when omitted (oidc-provider sets its own). */
  status?: number;
  title: string;
  message: string;
  /** Shown so that a person can quote it to an administrator. */
  requestId?: string;
}

/**
 * The one HTML error page: interactions, SAML refusals, oidc-provider's renderError, the edge's
 * refusals and the error mapper all answer a browser with it. Never cached; no form, so LOCK_CSP.
 */
export function sendErrorPage(ctx: PageContext, page: ErrorPage): void {
  if (page.status !== undefined) ctx.status = page.status;
  ctx.set('Content-Security-Policy', LOCK_CSP);
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'html';
  ctx.body = renderView('error', {
    title: page.title,
    message: page.message,
    ...(page.requestId !== undefined && { requestId: page.requestId }),
  });
}
