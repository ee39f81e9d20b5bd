import type pg from 'pg';
import type { z } from 'zod';
import type { Mail } from '../../mail/mail.ts';
import type { Logger } from '../../observability/logger.ts';
import type { OidcRuntime } from '../../oidc/runtime.ts';
import type { SecretBox } from '../../security/secret-box.ts';
import type { AdminActor } from '../admin-actor.ts';

export const ADMIN_API_PREFIX = '/admin/api/v1';

export interface AdminApiDeps {
  issuer: string;
  pool: pg.Pool;
  box: SecretBox;
  runtime: OidcRuntime;
  log: Logger;
  /** JWKS cache lifetime: new keys are published this long before they sign. */
  jwksMaxAge: number;
  now: () => Date;
  /** Mail (docs/email.md), when configured: verification mails and security notices. */
  mail?: { mail: Mail } | undefined;
}

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What a route's handler gets: everything from the request already read and checked. */
export interface AdminCall {
  deps: AdminApiDeps;
  params: Record<string, string>;
  /** Parsed with the route's `query` schema. */
  query: Record<string, unknown>;
  /** The JSON body, when the route takes one (validated by the service with the route's schema). */
  body: unknown;
  /** The If-Match header, verbatim. */
  ifMatch: string | undefined;
  by: AdminActor;
}

export interface AdminReply {
  status?: number;
  body?: unknown;
  etag?: string;
  /** Relative to the API prefix. */
  location?: string;
  contentType?: string;
  /** Further response headers (Content-Disposition of a download). */
  headers?: Record<string, string>;
}

/**
 * One operation of the admin API. The router serves it and the OpenAPI document describes it
 * from this same entry, so the two cannot drift apart.
 */
export interface AdminRoute {
  method: Method;
  /** OpenAPI path template under the prefix: `/roles/{name}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Path parameter → what it is. */
  params?: Record<string, string>;
  query?: z.ZodObject;
  /** The request body's schema (the declarative file's, where there is one). */
  body?: z.ZodType;
  bodyRequired?: boolean;
  response: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  /**
   * `read`: the reply carries an ETag. `write`: If-Match is required (428 without it).
   * `optional`: If-Match is honoured when sent.
   */
  etag?: 'read' | 'write' | 'optional';
  /** Error statuses this operation answers besides 401/403. */
  errors: number[];
  /**
   * What a successful call changes that this process holds in memory: it reloads before answering,
   * so the caller's next request (a token for a new client) sees the change; others reload on NOTIFY.
   */
  reloads?: boolean;
  /** Served without a token (the OpenAPI document). */
  public?: boolean;
  handle(call: AdminCall): Promise<AdminReply>;
}

/** `/roles/{name}` → `/roles/:name` for @koa/router. */
export const toRouterPath = (template: string) => template.replace(/\{(\w+)\}/g, ':$1');

export const segment = (value: string) => encodeURIComponent(value);
