import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderPages } from '../oidc/provider.ts';
import type { Locale } from '../web/i18n.ts';
import { localeFor } from '../web/locale.ts';
import { type PageContext, sendErrorPage, sendProtocolErrorPage } from './error-page.ts';
import { contentSecurityPolicy, LOCK_CSP, renderView } from './views.ts';

/** oidc-provider's pages speak the language of the request's `ui_locales` when it has one, else Accept-Language's. */
function localeOfProviderPage(ctx: KoaContextWithOIDC): Locale {
  const locale = localeFor(ctx as unknown as PageContext, ctx.oidc?.params?.ui_locales);
  ctx.set('Content-Language', locale.language);
  return locale;
}

/** Lock's pages for oidc-provider's hooks (src/oidc/provider.ts), handed to it by src/app.ts. */
export const providerPages: ProviderPages = {
  logout(ctx, { postLogoutRedirectUri, ...form }) {
    // The form's redirect chain ends at the client's post_logout_redirect_uri: CSP form-action allows it.
    ctx.set(
      'Content-Security-Policy',
      contentSecurityPolicy(postLogoutRedirectUri === undefined ? [] : [postLogoutRedirectUri]),
    );
    ctx.type = 'html';
    ctx.body = renderView('logout', form, localeOfProviderPage(ctx));
  },
  loggedOut(ctx, page) {
    ctx.set('Content-Security-Policy', LOCK_CSP);
    ctx.type = 'html';
    ctx.body = renderView('logged-out', page, localeOfProviderPage(ctx));
  },
  error(ctx, page) {
    sendErrorPage(ctx as unknown as PageContext, { ...page, uiLocales: ctx.oidc?.params?.ui_locales });
  },
  protocolError(ctx, problem) {
    sendProtocolErrorPage(ctx as unknown as PageContext, problem, ctx.oidc?.params?.ui_locales);
  },
  // The device pages' forms post to /device, whose redirects stay at Lock: LOCK_CSP. Never cached.
  // `error` and `notice` are catalogue keys; a client without a name is "the application".
  deviceUserCode(ctx, { error, notice, ...page }) {
    const locale = localeOfProviderPage(ctx);
    devicePage(
      ctx,
      renderView(
        'device-code',
        {
          ...page,
          ...(error !== undefined && { error: locale.t(error) }),
          ...(notice !== undefined && { notice: locale.t(notice) }),
        },
        locale,
      ),
    );
  },
  deviceConfirm(ctx, { clientName, ...page }) {
    const locale = localeOfProviderPage(ctx);
    devicePage(
      ctx,
      renderView(
        'device-confirm',
        { ...page, clientName: clientName ?? locale.t('common.the_application') },
        locale,
      ),
    );
  },
  deviceApproved(ctx, { clientName }) {
    const locale = localeOfProviderPage(ctx);
    devicePage(
      ctx,
      renderView('device-approved', { clientName: clientName ?? locale.t('common.the_application') }, locale),
    );
  },
};

function devicePage(ctx: Pick<PageContext, 'set' | 'type' | 'body'>, html: string): void {
  ctx.set('Content-Security-Policy', LOCK_CSP);
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'html';
  ctx.body = html;
}
