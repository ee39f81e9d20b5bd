// The static assets under /assets: the login pages' stylesheet and script (lock.js), and the admin console's script and
// stylesheet, read once at startup and served with a validator so that a browser revalidates them
// cheaply. Nothing else lives under /assets.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Koa from 'koa';
import { notFound } from '../observability/errors.ts';
import { refusedUnlessReading } from '../web/read-only.ts';
import { SCRIPT_PATH, STYLESHEET_PATH, VIEWS_DIR } from './views.ts';

const ASSETS_PREFIX = '/assets/';

const ASSETS: Record<string, { file: string; type: string }> = {
  [STYLESHEET_PATH]: { file: 'lock.css', type: 'text/css; charset=utf-8' },
  '/assets/admin.css': { file: 'admin.css', type: 'text/css; charset=utf-8' },
  '/assets/admin.js': { file: 'admin.js', type: 'text/javascript; charset=utf-8' },
  '/assets/passkey.js': { file: 'passkey.js', type: 'text/javascript; charset=utf-8' },
  '/assets/passkey-register.js': { file: 'passkey-register.js', type: 'text/javascript; charset=utf-8' },
  [SCRIPT_PATH]: { file: 'lock.js', type: 'text/javascript; charset=utf-8' },
};

/** Files of @simplewebauthn/browser's package, served as installed (the browser side of the passkey ceremonies). */
const PACKAGE_ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/simplewebauthn-browser.js': {
    file: 'dist/bundle/index.umd.min.js',
    type: 'text/javascript; charset=utf-8',
  },
};

export function serveAssets(): Koa.Middleware {
  const require = createRequire(import.meta.url);
  const files = [
    ...Object.entries(ASSETS).map(
      ([path, { file, type }]) => [path, `${VIEWS_DIR}assets/${file}`, type] as const,
    ),
    // The package exports only its modules: its bundle is found beside them (script/index.js → ../dist/…).
    ...Object.entries(PACKAGE_ASSETS).map(
      ([path, { file, type }]) =>
        [path, join(dirname(require.resolve('@simplewebauthn/browser')), '..', file), type] as const,
    ),
  ];
  const loaded = new Map(
    files.map(([path, location, type]) => {
      const body = readFileSync(location);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
      return [path, { body, type, etag }];
    }),
  );

  return async (ctx, next) => {
    const asset = loaded.get(ctx.path);
    if (asset === undefined) {
      if (!ctx.path.startsWith(ASSETS_PREFIX)) return next();
      throw notFound(`nothing at ${ctx.path}`);
    }
    if (refusedUnlessReading(ctx)) return;
    ctx.status = 200;
    ctx.set('Content-Type', asset.type);
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('ETag', asset.etag);
    if (notModified(ctx.get('If-None-Match'), asset.etag)) {
      ctx.status = 304;
      return;
    }
    ctx.body = asset.body;
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
