import type Koa from 'koa';
import { ApiError } from './errors.ts';

const LIMIT = 64 * 1024;

/** The request's JSON body: 415 for another content type, 413 past 64 KiB, 400 when it does not parse. */
export async function readJsonBody(ctx: Koa.Context): Promise<unknown> {
  if (!/^application\/([\w.-]+\+)?json\b/i.test(ctx.get('content-type')))
    throw new ApiError(415, 'unsupported_media_type', 'send the body as application/json');
  if (Number(ctx.get('content-length') || 0) > LIMIT)
    throw new ApiError(413, 'too_large', `the body is larger than ${LIMIT} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > LIMIT) throw new ApiError(413, 'too_large', `the body is larger than ${LIMIT} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new ApiError(400, 'invalid_request', `the body is not valid JSON: ${(error as Error).message}`);
  }
}
