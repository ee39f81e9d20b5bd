import type Koa from 'koa';

const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Reads a small urlencoded form body: 415 for another type, 413 past `limit` bytes. */
export async function readForm(ctx: Koa.Context, limit = 16 * 1024): Promise<URLSearchParams> {
  if (!ctx.is(FORM_TYPE)) ctx.throw(415, `expected ${FORM_TYPE}`);
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) ctx.throw(413, 'form too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) ctx.throw(413, 'form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
