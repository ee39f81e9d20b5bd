// The admin console: one static page (views/admin/index.html) whose module script
// (/assets/admin.js) signs in through Lock itself with the built-in `lock-console` client and then
// talks to the admin API. The page is the same for /admin and /admin/callback (where the script
// redeems the authorization code).
import { readFileSync } from 'node:fs';
import type Koa from 'koa';
import { VIEWS_DIR } from '../interactions/views.ts';
import { refusedUnlessReading } from '../web/read-only.ts';

/** The console's CSP: its own module script and stylesheet, fetch() to Lock only, nothing inline. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const CONSOLE_PATHS = new Set(['/admin', '/admin/', '/admin/callback']);

export function adminConsole(): Koa.Middleware {
  const page = readFileSync(`${VIEWS_DIR}admin/index.html`);
  return async (ctx, next) => {
    if (!CONSOLE_PATHS.has(ctx.path)) return next();
    if (refusedUnlessReading(ctx)) return;
    ctx.status = 200;
    ctx.set('Content-Type', 'text/html; charset=utf-8');
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Security-Policy', CONSOLE_CSP);
    ctx.body = page;
  };
}
