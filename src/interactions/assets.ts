// The login pages' one stylesheet, read once at startup and served with a validator so that a
// browser revalidates it cheaply. Nothing else lives under /assets.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type Koa from 'koa';
import { STYLESHEET_PATH, VIEWS_DIR } from './views.ts';

const ASSETS_PREFIX = '/assets/';

export function serveAssets(): Koa.Middleware {
  const css = readFileSync(`${VIEWS_DIR}assets/lock.css`);
  const etag = `"${createHash('sha256').update(css).digest('base64url').slice(0, 32)}"`;

  return async (ctx, next) => {
    if (ctx.path !== STYLESHEET_PATH) {
      if (!ctx.path.startsWith(ASSETS_PREFIX)) return next();
      ctx.status = 404;
      ctx.body = 'Not Found';
      return;
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      ctx.status = 405;
      ctx.body = 'Method Not Allowed';
      return;
    }
    ctx.status = 200;
    ctx.set('Content-Type', 'text/css; charset=utf-8');
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('ETag', etag);
    if (notModified(ctx.get('If-None-Match'), etag)) {
      ctx.status = 304;
      return;
    }
    ctx.body = css;
  };
}

/**
 * If-None-Match by weak comparison (RFC 9110 §13.1.2): `*`, or any listed tag, W/ or not. Unlike
 * koa's ctx.fresh this answers 304 even when the request also says `Cache-Control: no-cache`, as
 * fetch() adds to every conditional request it is handed.
 */
function notModified(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch === '') return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
