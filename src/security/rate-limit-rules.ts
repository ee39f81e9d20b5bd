import type Koa from 'koa';
import { claimedClient } from './client-auth-guard.ts';
import type { RateLimitRule } from './rate-limit.ts';

export interface RateLimitSettings {
  /** Per client and per address, on POST /token and POST /request (PAR). */
  token: number;
  /** Per client, on POST /token/introspection. */
  introspection: number;
  /** Per address, on /auth and the logout endpoint (/session/end, …/confirm). */
  authorization: number;
  /** Per address, on the login form. */
  login: number;
  /** Per address, on every `/interaction/…` page and form; optional: 0 when absent. */
  interaction?: number;
  /** Per address, on a SAML connector's endpoints (ACS, SP metadata); optional: 0 when absent. */
  saml?: number;
  /** Per address, on the device authorization endpoint and the device pages; optional: 0 when absent. */
  device?: number;
  /** Per address, on POST /reg (dynamic client registration); optional: 0 when absent. */
  registration?: number;
  /** Per address, on the password-reset and email-verification posts (docs/email.md); optional: 0 when absent. */
  passwordReset?: number;
}

/** The client a request names (Basic, form body, client assertion: see claimedClient), else the query's `client_id`. */
function namedClient(ctx: Koa.Context): string | undefined {
  const claimed = claimedClient(ctx);
  if (claimed !== undefined) return claimed.length <= 256 ? claimed : undefined;
  const fromQuery = ctx.query.client_id;
  return typeof fromQuery === 'string' && fromQuery.length <= 256 ? fromQuery : undefined;
}

const byAddress = (ctx: Koa.Context) => ctx.ip;
// Password posts, second-factor codes and passkey assertions: one budget for every try at a credential.
const LOGIN_FORM = /^\/interaction\/[^/]+\/(login|totp|passkey\/verify|totp\/passkey\/verify)$/;
const SAML_ENDPOINT = /^\/saml\/[^/]+\/(acs|metadata)$/;
// The device authorization endpoint (/device/auth), the user-code page and its resume (/device/<uid>).
const DEVICE_ENDPOINT = /^\/device(\/[^/]+)?$/;
// Each page view of these stores a session for its form's token (session-policy.ts): counted.
const BROWSER_METHODS = new Set(['GET', 'HEAD', 'POST']);
const MAIL_LINK_POST = /^\/(reset|verify-email)(\/[^/]+)?$/;

/**
 * The rules of docs/operations.md; a limit of 0 turns a rule off. Only clients that exist are
 * counted per client (`isClient`): made-up client ids would otherwise each get a counter, here and
 * in PostgreSQL. Their requests still count per address, and fail client authentication.
 */
export function rateLimitRules(
  settings: RateLimitSettings,
  isClient: (id: string) => boolean,
): RateLimitRule[] {
  const clientOf = (ctx: Koa.Context) => {
    const id = namedClient(ctx);
    return id !== undefined && isClient(id) ? id : undefined;
  };
  // PAR pushes (RFC 9126) authenticate the client and store a request: they share the token budget.
  const tokenRequest = (method: string, path: string) =>
    method === 'POST' && (path === '/token' || path === '/request');
  const rules: RateLimitRule[] = [
    { name: 'token:client', limit: settings.token, appliesTo: tokenRequest, keyOf: clientOf },
    { name: 'token:address', limit: settings.token, appliesTo: tokenRequest, keyOf: byAddress },
    {
      name: 'introspection:client',
      limit: settings.introspection,
      appliesTo: (method, path) => method === 'POST' && path === '/token/introspection',
      keyOf: clientOf,
    },
    {
      // The logout prompt too: like /auth, anyone can load it, and it stores a session for its form.
      name: 'authorization:address',
      limit: settings.authorization,
      appliesTo: (method, path) =>
        BROWSER_METHODS.has(method) &&
        (path === '/auth' || path === '/session/end' || path === '/session/end/confirm'),
      keyOf: byAddress,
    },
    {
      name: 'login:address',
      limit: settings.login,
      appliesTo: (method, path) => method === 'POST' && LOGIN_FORM.test(path),
      keyOf: byAddress,
    },
    {
      // /account's forms (a current password among them) count as login posts do (docs/account.md).
      name: 'account:address',
      limit: settings.login,
      appliesTo: (method, path) => method === 'POST' && path.startsWith('/account/'),
      keyOf: byAddress,
    },
    {
      // Interaction ids are made up for free: a flood of them must cost Lock a 429, not a lookup and a page.
      name: 'interaction:address',
      limit: settings.interaction ?? 0,
      appliesTo: (_method, path) => path.startsWith('/interaction/'),
      keyOf: byAddress,
    },
    {
      // Anyone can post a document to an ACS for Lock to parse; an IdP's users arrive one login each.
      name: 'saml:address',
      limit: settings.saml ?? 0,
      appliesTo: (method, path) => (method === 'GET' || method === 'POST') && SAML_ENDPOINT.test(path),
      keyOf: byAddress,
    },
    {
      // RFC 8628 §5.1: user codes are short; the brute-force guard counts wrong ones, this caps the
      // pace, and the page views that store a session for the form.
      name: 'device:address',
      limit: settings.device ?? 0,
      appliesTo: (method, path) => BROWSER_METHODS.has(method) && DEVICE_ENDPOINT.test(path),
      keyOf: byAddress,
    },
    {
      // Each registration is a stored client: an open endpoint must not let one address fill the table.
      name: 'registration:address',
      limit: settings.registration ?? 0,
      appliesTo: (method, path) => method === 'POST' && path === '/reg',
      keyOf: byAddress,
    },
    {
      // Each request may mail someone: one address must not make Lock send mail after mail.
      name: 'password-reset:address',
      limit: settings.passwordReset ?? 0,
      appliesTo: (method, path) => method === 'POST' && MAIL_LINK_POST.test(path) && path !== '/verify-email',
      keyOf: byAddress,
    },
  ];
  return rules.filter((rule) => rule.limit > 0);
}
