import Router from '@koa/router';
import type Koa from 'koa';
import { invalidInput, LockError, notFound } from '../../observability/errors.ts';
import { parseInput } from '../validation.ts';
import { type AdminState, requireAdmin } from './auth.ts';
import { readJsonBody } from './json-body.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { ADMIN_API_PREFIX, type AdminApiDeps, type AdminRoute, toRouterPath } from './route.ts';
import { RESOURCE_ROUTES } from './routes.ts';

/** The admin API document itself: public, so tools can read it without a token. */
const openApiRoute: AdminRoute = {
  method: 'get',
  path: '/openapi.json',
  operationId: 'getOpenApiDocument',
  summary: 'This OpenAPI 3.1 document',
  tag: 'Meta',
  public: true,
  response: { status: 200, description: 'The OpenAPI document', contentType: 'application/json' },
  errors: [],
  handle: async ({ deps }) => ({ body: buildOpenApiDocument(deps.issuer, ADMIN_ROUTES) }),
};

export const ADMIN_ROUTES: readonly AdminRoute[] = [openApiRoute, ...RESOURCE_ROUTES];

/** `/admin/api/v1/…`: the admin REST API, served from the route table. */
export function adminApiRouter(deps: AdminApiDeps): Router<AdminState> {
  const router = new Router<AdminState>({ prefix: ADMIN_API_PREFIX });
  const authenticate = requireAdmin(deps);
  // Errors are answered by the edge's mapper (src/http/error-response.ts) as problem details.
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  for (const route of ADMIN_ROUTES) {
    const stack: Koa.Middleware<AdminState>[] = route.public ? [] : [authenticate];
    router[route.method](toRouterPath(route.path), ...stack, serve(route, deps));
  }
  router.all('/{*rest}', authenticate, (ctx) => {
    const allowed = ADMIN_ROUTES.filter((route) => pathPattern(route.path).test(ctx.path)).map((route) =>
      route.method.toUpperCase(),
    );
    if (allowed.length > 0) {
      const methods = [...new Set(allowed)].join(', ');
      throw new LockError('method_not_allowed', `${ctx.method} is not allowed here: use ${methods}`, {
        headers: { Allow: methods },
      });
    }
    throw notFound(`no admin API operation at ${ctx.path}: see ${ADMIN_API_PREFIX}/openapi.json`);
  });
  return router;
}

const pathPattern = (template: string) =>
  new RegExp(`^${ADMIN_API_PREFIX}${template.replace(/\{\w+\}/g, '[^/]+').replaceAll('.', '\\.')}$`);

function serve(route: AdminRoute, deps: AdminApiDeps): Koa.Middleware<AdminState> {
  return async (ctx) => {
    const query = route.query ? parseQuery(route, ctx.query) : {};
    const body = route.body ? await readJsonBody(ctx) : undefined;
    if (route.bodyRequired && body === undefined)
      throw new LockError('invalid_request', 'a JSON body is required');
    const ifMatch = ctx.get('if-match') || undefined;
    if (route.etag === 'write' && ifMatch === undefined)
      throw new LockError(
        'precondition_required',
        'this change needs If-Match: send the ETag you read (GET), or If-Match: * to change whatever is current',
      );
    const reply = await route.handle({
      deps,
      params: ctx.params as Record<string, string>,
      query,
      body,
      ifMatch,
      by: ctx.state.admin ?? { actor: 'anonymous' },
    });
    // The change is committed: a failed reload here is logged, and NOTIFY or the poll reload later.
    if (route.reloads)
      await deps.runtime
        .reload()
        .catch((error) => ctx.state.log.error({ err: error }, 'reload after an admin change failed'));
    if (reply.etag) {
      ctx.set('ETag', reply.etag);
      if (route.method === 'get' && matchesNoneOf(ctx.get('if-none-match'), reply.etag)) {
        ctx.status = 304;
        return;
      }
    }
    if (reply.location) ctx.set('Location', `${ADMIN_API_PREFIX}${reply.location}`);
    for (const [name, value] of Object.entries(reply.headers ?? {})) ctx.set(name, value);
    ctx.status = reply.status ?? route.response.status;
    if (reply.body === undefined) return;
    ctx.type = reply.contentType ?? 'application/json';
    ctx.body = reply.body;
  };
}

function parseQuery(route: AdminRoute, query: Record<string, unknown>): Record<string, unknown> {
  try {
    return parseInput(route.query!, query) as Record<string, unknown>;
  } catch (error) {
    // A bad query string is a malformed request, not an unprocessable entity.
    if (error instanceof LockError && error.code === 'invalid_input') throw invalidInput(error.problems, 400);
    throw error;
  }
}

const matchesNoneOf = (ifNoneMatch: string, etag: string) =>
  ifNoneMatch !== '' &&
  (ifNoneMatch.trim() === '*' ||
    ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag));
