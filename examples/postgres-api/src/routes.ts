import Router from '@koa/router';
import type pg from 'pg';
import { z } from 'zod';
import type { ApiState } from './auth.ts';
import { readJsonBody } from './body.ts';
import { asCaller } from './database.ts';
import { ApiError } from './errors.ts';

const newSensitiveData = z.strictObject({
  content: z.string().min(1).max(10_000),
  classification: z.enum(['public', 'internal', 'restricted']).default('internal'),
  /** Whose row it is; the caller's own `sub` when left out. Only app_admin's policy lets it differ. */
  owner: z.string().min(1).max(256).optional(),
});

const rowId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** A schema's verdict on outside input: the value, or a 400 that names each bad field. */
function parse<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
  );
  throw new ApiError(400, 'invalid_request', `${what}: ${problems.join('; ')}`);
}

/**
 * The data routes. None of them decides who may do what: each runs as the caller's database role,
 * and PostgreSQL's grants and row-level security policies (schema.sql) allow or refuse.
 */
export function dataRoutes(pool: pg.Pool): Router<ApiState> {
  const router = new Router<ApiState>();

  router.get('/users', async (ctx) => {
    const { rows } = await asCaller(pool, ctx.state.caller, (client) =>
      client.query('SELECT id, username, email, created_at FROM api.users ORDER BY id'),
    );
    ctx.body = { users: rows };
  });

  router.get('/sensitive-data', async (ctx) => {
    const { rows } = await asCaller(pool, ctx.state.caller, (client) =>
      client.query(
        'SELECT id, owner, content, classification, created_at FROM api.sensitive_data ORDER BY id',
      ),
    );
    ctx.body = { data: rows };
  });

  router.post('/sensitive-data', async (ctx) => {
    const input = parse(newSensitiveData, await readJsonBody(ctx), 'body');
    const { rows } = await asCaller(pool, ctx.state.caller, (client) =>
      client.query(
        `INSERT INTO api.sensitive_data (owner, content, classification) VALUES ($1, $2, $3)
         RETURNING id, owner, content, classification, created_at`,
        [input.owner ?? ctx.state.claims.sub, input.content, input.classification],
      ),
    );
    ctx.status = 201;
    ctx.set('Location', `/sensitive-data/${rows[0].id}`);
    ctx.body = rows[0];
  });

  router.delete('/sensitive-data/:id', async (ctx) => {
    const id = parse(rowId, ctx.params.id, 'id');
    const { rowCount } = await asCaller(pool, ctx.state.caller, (client) =>
      client.query('DELETE FROM api.sensitive_data WHERE id = $1', [id]),
    );
    // Row-level security hides rows a role may not touch: to the caller they do not exist.
    if (rowCount === 0) throw new ApiError(404, 'not_found', `no sensitive data with id ${id}`);
    ctx.status = 204;
  });

  return router;
}
