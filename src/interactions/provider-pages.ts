import type { ProviderPages } from '../oidc/provider.ts';
import { type PageContext, sendErrorPage } from './error-page.ts';
import { contentSecurityPolicy, LOCK_CSP, renderView } from './views.ts';

/** Lock's pages for oidc-provider's hooks (src/oidc/provider.ts), handed to it by src/app.ts. */
export const providerPages: ProviderPages = {
  logout(ctx, { postLogoutRedirectUri, ...form }) {
    // The form's redirect chain ends at the client's post_logout_redirect_uri: CSP form-action allows it.
    ctx.set(
      'Content-Security-Policy',
      contentSecurityPolicy(postLogoutRedirectUri === undefined ? [] : [postLogoutRedirectUri]),
    );
    ctx.type = 'html';
    ctx.body = renderView('logout', form);
  },
  loggedOut(ctx, page) {
    ctx.set('Content-Security-Policy', LOCK_CSP);
    ctx.type = 'html';
    ctx.body = renderView('logged-out', page);
  },
  error(ctx, page) {
    sendErrorPage(ctx, page);
  },
  // The device pages' forms post to /device, whose redirects stay at Lock: LOCK_CSP. Never cached.
  deviceUserCode(ctx, page) {
    devicePage(ctx, renderView('device-code', page));
  },
  deviceConfirm(ctx, page) {
    devicePage(ctx, renderView('device-confirm', page));
  },
  deviceApproved(ctx, page) {
    devicePage(ctx, renderView('device-approved', page));
  },
};

function devicePage(ctx: PageContext, html: string): void {
  ctx.set('Content-Security-Policy', LOCK_CSP);
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'html';
  ctx.body = html;
}
