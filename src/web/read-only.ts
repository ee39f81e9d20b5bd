import type Koa from 'koa';

/** Answers 405 (with Allow) unless the request only reads; true when it did so. */
export function refusedUnlessReading(ctx: Koa.Context): boolean {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') return false;
  ctx.set('Allow', 'GET, HEAD');
  ctx.status = 405;
  ctx.body = 'Method Not Allowed';
  return true;
}
