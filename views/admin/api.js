// @ts-check
// The admin API client: calls an operation by its operationId. Method and path come from the API's
// own OpenAPI document (read once, at run time); the request and response types come from
// openapi.d.ts, generated from the same document by scripts/console-types.ts.

import { apiDocument } from './api-document.js';
import { session, signIn } from './auth.js';

export const API = '/admin/api/v1';

/** @typedef {import('./openapi').Operations} Operations */
/** @typedef {keyof Operations} OperationId */
/** @typedef {import('./openapi').ProblemDetails} ApiError */
/**
 * @template T
 * @typedef {{ ok: true, status: number, data: T, etag: string | null }
 *   | { ok: false, status: number, data: ApiError | null, etag: string | null }} ApiResult
 */
/**
 * @template {OperationId} K
 * @typedef {object} Request
 * @property {Operations[K]['params']} [params]
 * @property {Partial<Operations[K]['query']>} [query]
 * @property {Operations[K]['body']} [body]
 * @property {string | null} [etag] sent as If-Match
 */

/**
 * Calls the operation; a 401 (the access token expired) signs in again and never resolves.
 * @template {OperationId} K
 * @param {K} operationId
 * @param {Request<K>} [request]
 * @returns {Promise<ApiResult<Operations[K]['response']>>}
 */
export async function api(operationId, { params, query, body, etag } = {}) {
  const { method, path } = await operationOf(operationId);
  const values = /** @type {Record<string, string>} */ (params ?? {});
  let url = `${API}${path.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(values[name] ?? ''))}`;
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {}))
    if (value !== undefined && value !== '') search.set(name, String(value));
  if (search.size > 0) url += `?${search}`;
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${session.accessToken}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (etag) headers['if-match'] = etag;
  const response = await fetch(url, {
    method: method.toUpperCase(),
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    await signIn();
    return new Promise(() => {});
  }
  let data = null;
  const type = response.headers.get('content-type') ?? '';
  if (response.status !== 204)
    data =
      type.includes('json') || !response.ok ? await response.json().catch(() => null) : await response.text();
  return { ok: response.ok, status: response.status, data, etag: response.headers.get('etag') };
}

/**
 * GETs the entity for its ETag, then changes it with If-Match (so nobody's change is overwritten).
 * @template {OperationId} K
 * @param {OperationId} read the entity's GET operation, with the same path parameters
 * @param {K} change
 * @param {Operations[K]['params']} params
 * @returns {Promise<ApiResult<Operations[K]['response']>>}
 */
export async function withEtag(read, change, params) {
  const current = await api(read, { params: /** @type {never} */ (params) });
  if (!current.ok) return { ...current, ok: false };
  return api(change, { params, etag: current.etag });
}

/**
 * The data of a successful result; anything else is thrown (a page cannot be drawn without it).
 * @template T
 * @param {ApiResult<T>} result
 * @returns {T}
 */
export function expectOk(result) {
  if (!result.ok) throw new LoadError(result);
  return result.data;
}

/** A page could not be read: the shell shows "Couldn't load" with Retry in its place. */
export class LoadError extends Error {
  /** @param {{ status: number, data: ApiError | null }} result */
  constructor(result) {
    super(result.data?.error ?? `The request failed (${result.status}).`);
    this.result = result;
  }
}

/** @param {OperationId} operationId */
async function operationOf(operationId) {
  const document = await apiDocument();
  for (const [path, methods] of Object.entries(document.paths))
    for (const [method, operation] of Object.entries(methods))
      if (operation.operationId === operationId) return { method, path };
  throw new Error(`The admin API has no operation ${operationId}`);
}
