import type Koa from 'koa';

/** Reads a small JSON body (a page script's call): 415 for another type, 413 past `limit` bytes, 400 if not JSON. */
export async function readJson(ctx: Koa.Context, limit = 64 * 1024): Promise<unknown> {
  if (!ctx.is('application/json')) ctx.throw(415, 'expected application/json');
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) ctx.throw(413, 'body too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) ctx.throw(413, 'body too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    ctx.throw(400, 'the body is not JSON');
  }
}
