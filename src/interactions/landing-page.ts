// The page at `/`: what someone who opens the issuer URL finds — what this server is, and where
// the console, discovery, keys and health are. Public facts only (the issuer and Lock's own
// paths, all in the discovery document anyway): no secret, no user data, nothing per person.
import { readFileSync } from 'node:fs';
import { Eta } from 'eta/core';
import type Koa from 'koa';
import { LOCK_CSP, STYLESHEET_PATH, VIEWS_DIR } from './views.ts';

export interface LandingLink {
  label: string;
  note: string;
  href: string;
}

/** The links of the page, each an absolute URL under the issuer. */
export function landingLinks(issuer: string): LandingLink[] {
  return [
    {
      label: 'Admin console',
      note: 'For administrators: clients, APIs, roles, users and connectors',
      href: `${issuer}/admin`,
    },
    {
      label: 'OpenID Connect discovery',
      note: 'For developers: the endpoints and what this server supports',
      href: `${issuer}/.well-known/openid-configuration`,
    },
    {
      label: 'Signing keys (JWKS)',
      note: 'For APIs that validate Lock’s tokens',
      href: `${issuer}/jwks`,
    },
    {
      label: 'Admin API (OpenAPI document)',
      note: 'For automation: every operation of the admin REST API',
      href: `${issuer}/admin/api/v1/openapi.json`,
    },
    { label: 'Health', note: 'Whether the process is up (readiness: /readyz)', href: `${issuer}/healthz` },
  ];
}

const eta = new Eta({ autoEscape: true, cache: true });
eta.loadTemplate('@layout', readFileSync(`${VIEWS_DIR}layout.eta`, 'utf8'));
eta.loadTemplate('@landing', readFileSync(`${VIEWS_DIR}landing.eta`, 'utf8'));

export function renderLandingPage(issuer: string): string {
  return eta.render('@landing', {
    title: 'Lock – sign-in service',
    stylesheet: STYLESHEET_PATH,
    issuer,
    links: landingLinks(issuer),
  });
}

/** GET / (and HEAD): the same page for everyone, so caches may keep it a while. */
export function landingPage(issuer: string): Koa.Middleware {
  const page = renderLandingPage(issuer);
  return (ctx) => {
    ctx.set('Content-Security-Policy', LOCK_CSP);
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'html';
    ctx.body = page;
  };
}
