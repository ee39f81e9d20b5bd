export interface JsonResponse {
  body: unknown;
  headers: Headers;
}

/**
 * GETs `url` and parses JSON, all within `timeoutMs`. Failures are plain errors whose message says
 * what happened at which URL; callers wrap them in their own context.
 */
export async function fetchJson(
  fetchImpl: typeof fetch,
  url: string,
  timeoutMs: number,
): Promise<JsonResponse> {
  let response: Response;
  try {
    response = await fetchImpl(url, {
      headers: { accept: 'application/json, application/jwk-set+json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new Error(`GET ${url}: ${describeFailure(error, timeoutMs)}`, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`GET ${url}: answered HTTP ${response.status}`);
  }
  try {
    return { body: await response.json(), headers: response.headers };
  } catch (error) {
    throw new Error(`GET ${url}: ${describeFailure(error, timeoutMs, 'the body is not JSON')}`, {
      cause: error,
    });
  }
}

function describeFailure(error: unknown, timeoutMs: number, otherwise = 'request failed'): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return `no answer within ${timeoutMs} ms`;
  // undici reports "fetch failed" and puts the socket error (ECONNREFUSED, ENOTFOUND, …) in `cause`.
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error)
    return `${otherwise}: ${'code' in cause ? `${cause.code} ` : ''}${cause.message}`;
  return error instanceof Error ? `${otherwise}: ${error.message}` : otherwise;
}
