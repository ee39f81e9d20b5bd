import type Koa from 'koa';
import { LockError } from '../../observability/errors.ts';

const LIMIT = 2 * 1024 * 1024;

/**
 * The request's JSON body (undefined when there is none): 415 for another content type, 413 past
 * the limit (IdP metadata documents are the largest bodies), 400 when it does not parse.
 */
export async function readJsonBody(ctx: Koa.Context): Promise<unknown> {
  const length = ctx.get('content-length');
  if (length === '0' || (length === '' && !ctx.get('transfer-encoding'))) return undefined;
  if (!/^application\/([\w.-]+\+)?json\b/i.test(ctx.get('content-type')))
    throw new LockError('unsupported_media_type', 'send the body as application/json');
  if (Number(length || 0) > LIMIT) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > LIMIT) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new LockError('invalid_request', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

const tooLarge = () => new LockError('payload_too_large', `the body is larger than ${LIMIT} bytes`);
