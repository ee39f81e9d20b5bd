import type Koa from 'koa';
import type { RateLimitRule } from './rate-limit.ts';

export interface RateLimitSettings {
  /** Per client and per address, on POST /token. */
  token: number;
  /** Per client, on POST /token/introspection. */
  introspection: number;
  /** Per address, on /auth. */
  authorization: number;
  /** Per address, on the login form. */
  login: number;
}

/** The client a request names with HTTP Basic authentication, or as `client_id` in the query. */
function clientOf(ctx: Koa.Context): string | undefined {
  const header = ctx.get('authorization');
  if (header.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      try {
        return decodeURIComponent(decoded.slice(0, colon));
      } catch {
        return undefined;
      }
    }
  }
  const fromQuery = ctx.query.client_id;
  return typeof fromQuery === 'string' && fromQuery.length <= 256 ? fromQuery : undefined;
}

const on = (
  method: string | string[],
  test: (path: string) => boolean,
  key: (ctx: Koa.Context) => string | undefined,
) => {
  const methods = Array.isArray(method) ? method : [method];
  return (ctx: Koa.Context) => (methods.includes(ctx.method) && test(ctx.path) ? key(ctx) : undefined);
};

/** The rules of docs/operations.md; a limit of 0 turns a rule off. */
export function rateLimitRules(settings: RateLimitSettings): RateLimitRule[] {
  const rules: RateLimitRule[] = [
    { name: 'token:client', limit: settings.token, keyOf: on('POST', (p) => p === '/token', clientOf) },
    {
      name: 'token:address',
      limit: settings.token,
      keyOf: on(
        'POST',
        (p) => p === '/token',
        (ctx) => ctx.ip,
      ),
    },
    {
      name: 'introspection:client',
      limit: settings.introspection,
      keyOf: on('POST', (p) => p === '/token/introspection', clientOf),
    },
    {
      name: 'authorization:address',
      limit: settings.authorization,
      keyOf: on(
        ['GET', 'POST'],
        (p) => p === '/auth',
        (ctx) => ctx.ip,
      ),
    },
    {
      name: 'login:address',
      limit: settings.login,
      keyOf: on(
        'POST',
        (p) => /^\/interaction\/[^/]+\/(login|totp)$/.test(p),
        (ctx) => ctx.ip,
      ),
    },
  ];
  return rules.filter((rule) => rule.limit > 0);
}
