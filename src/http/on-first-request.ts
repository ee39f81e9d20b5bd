import type Koa from 'koa';

/**
 * Everything under `prefix` is served by the middleware `load` builds, and `load` runs on the first
 * request there rather than at start: code a server seldom runs (the admin API, with its schemas and
 * OpenAPI document) stays out of the heap, where every full GC would mark it, until someone asks
 * for it. Other paths pass straight on. A load that fails is tried again by the next request.
 */
export function onFirstRequest<State>(
  prefix: string,
  load: () => Promise<Koa.Middleware<State>>,
): Koa.Middleware<State> {
  let loading: Promise<Koa.Middleware<State>> | undefined;
  return async (ctx, next) => {
    const path = ctx.path;
    if (path !== prefix && !path.startsWith(`${prefix}/`)) return next();
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    const middleware = await loading;
    return middleware(ctx, next);
  };
}
