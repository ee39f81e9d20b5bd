// The page at `/`: what someone who opens the issuer URL finds — what this server is, and where
// the console, discovery, keys and health are. Public facts only (the issuer and Lock's own
// paths, all in the discovery document anyway): no secret, no user data, nothing per person.
import { readFileSync } from 'node:fs';
import { Eta } from 'eta/core';
import type Koa from 'koa';
import type { Locale } from '../web/i18n.ts';
import { localeFor } from '../web/locale.ts';
import { LOCK_CSP, STYLESHEET_PATH, VIEWS_DIR } from './views.ts';

/** A link of the page: its words are `landing.<key>` and `landing.<key>_note` of the catalogue. */
export interface LandingLink {
  key: 'console' | 'discovery' | 'jwks' | 'openapi' | 'health' | 'docs_link';
  href: string;
}

/** The links of the page: absolute URLs under the issuer, and the documentation when LOCK_DOCS_URL names it. */
export function landingLinks(issuer: string, docsUrl?: string): LandingLink[] {
  return [
    { key: 'console', href: `${issuer}/admin` },
    { key: 'discovery', href: `${issuer}/.well-known/openid-configuration` },
    { key: 'jwks', href: `${issuer}/jwks` },
    { key: 'openapi', href: `${issuer}/admin/api/v1/openapi.json` },
    { key: 'health', href: `${issuer}/healthz` },
    ...(docsUrl === undefined ? [] : [{ key: 'docs_link' as const, href: docsUrl }]),
  ];
}

const eta = new Eta({ autoEscape: true, cache: true });
eta.loadTemplate('@layout', readFileSync(`${VIEWS_DIR}layout.eta`, 'utf8'));
eta.loadTemplate('@landing', readFileSync(`${VIEWS_DIR}landing.eta`, 'utf8'));

export function renderLandingPage(
  issuer: string,
  docsUrl: string | undefined,
  { language, t }: Locale,
): string {
  return eta.render('@landing', {
    title: t('layout.title', { page: t('landing.heading') }),
    stylesheet: STYLESHEET_PATH,
    lang: language,
    t,
    issuer,
    links: landingLinks(issuer, docsUrl),
    // Without a link, the page says where the documentation is.
    docsNote: docsUrl === undefined,
  });
}

/** GET / (and HEAD): the same page for everyone who reads its language, rendered once per language. */
export function landingPage(issuer: string, docsUrl?: string): Koa.Middleware {
  const rendered = new Map<string, string>();
  return (ctx) => {
    const locale = localeFor(ctx);
    let page = rendered.get(locale.language);
    if (page === undefined) {
      page = renderLandingPage(issuer, docsUrl, locale);
      rendered.set(locale.language, page);
    }
    ctx.set('Content-Security-Policy', LOCK_CSP);
    ctx.set('Content-Language', locale.language);
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.vary('Accept-Language');
    ctx.type = 'html';
    ctx.body = page;
  };
}
