import type Koa from 'koa';
import type { LockState } from '../../web/lock-state.ts';
import { ConnectionTestFailedError } from '../connectors.ts';
import { AdminInputError, ValidationError } from '../errors.ts';

/**
 * Every admin API error as JSON: `{ error, problems?: [{ path, message }] }`. Errors of ours
 * carry their status; anything else is a 500 that is logged and says nothing more.
 */
export function adminErrors(): Koa.Middleware<LockState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const { status, body } = describe(error);
      if (status >= 500) ctx.state.log.error({ err: error }, 'admin API request failed');
      ctx.status = status;
      ctx.body = body;
    }
  };
}

function describe(error: unknown): { status: number; body: Record<string, unknown> } {
  if (error instanceof ValidationError)
    return { status: error.status, body: { error: 'the request is invalid', problems: error.problems } };
  if (error instanceof AdminInputError)
    return {
      status: error.status,
      body: { error: error.message, problems: [{ path: error.field, message: error.detail }] },
    };
  if (error instanceof ConnectionTestFailedError)
    return {
      status: 422,
      body: {
        error: error.message,
        problems: [{ path: 'config', message: error.message }],
        test: error.report,
      },
    };
  const status = (error as { status?: number }).status;
  const expose = (error as { expose?: boolean }).expose;
  if (typeof status === 'number' && status >= 400 && status < 500 && expose !== false)
    return { status, body: { error: (error as Error).message } };
  return { status: 500, body: { error: 'internal server error' } };
}
