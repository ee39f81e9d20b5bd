// The admin console: one static page (views/admin/index.html) whose module script
// (/assets/admin.js) signs in through Lock itself with the built-in `lock-console` client and then
// talks to the admin API. The page is the same for /admin and /admin/callback (where the script
// redeems the authorization code). The script's modules, views/admin/**/*.js, are served here at
// /admin/<path>.js.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type Koa from 'koa';
import { VIEWS_DIR } from '../interactions/views.ts';
import { refusedUnlessReading } from '../web/read-only.ts';

/** The console's CSP: its own module scripts and stylesheet, fetch() to Lock only, nothing inline. */
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
const CONSOLE_DIR = `${VIEWS_DIR}admin/`;

type Module = { body: Buffer; etag: string };

/**
 * Every .js file under views/admin, read once at startup and keyed by its URL path: a request is
 * looked up in this map, so nothing outside the folder (nor any other file in it) can be served.
 */
function loadModules(): Map<string, Module> {
  const files = readdirSync(CONSOLE_DIR, { recursive: true, encoding: 'utf8' }).filter((file) =>
    file.endsWith('.js'),
  );
  return new Map(
    files.map((file) => {
      const body = readFileSync(`${CONSOLE_DIR}${file}`);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
      return [`/admin/${file.split(/[\\/]/).join('/')}`, { body, etag }];
    }),
  );
}

export function adminConsole(): Koa.Middleware {
  const page = readFileSync(`${CONSOLE_DIR}index.html`);
  const modules = loadModules();
  return async (ctx, next) => {
    const module = modules.get(ctx.path);
    if (module !== undefined) return serveModule(ctx, module);
    if (!CONSOLE_PATHS.has(ctx.path)) return next();
    if (refusedUnlessReading(ctx)) return;
    ctx.status = 200;
    ctx.set('Content-Type', 'text/html; charset=utf-8');
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Security-Policy', CONSOLE_CSP);
    ctx.body = page;
  };
}

function serveModule(ctx: Koa.Context, module: Module): void {
  if (refusedUnlessReading(ctx)) return;
  ctx.status = 200;
  ctx.set('Content-Type', 'text/javascript; charset=utf-8');
  // Revalidated on every load (a cheap 304): the modules import each other, so a browser must never
  // combine a cached module with a newer one after an upgrade.
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('ETag', module.etag);
  if (
    ctx
      .get('If-None-Match')
      .split(',')
      .some((tag) => tag.trim().replace(/^W\//, '') === module.etag)
  ) {
    ctx.status = 304;
    return;
  }
  ctx.body = module.body;
}
