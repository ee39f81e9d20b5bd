import type { Logger } from '../observability/logger.ts';

/** `ctx.state` of every request, as the edge (src/http/middleware.ts) sets it up and the pages read it. */
export interface LockState {
  requestId: string;
  log: Logger;
  /** What oidc-provider reported as its server error for this request, if anything. */
  serverError?: unknown;
  /** The form or JSON body the edge read (src/http/held-body.ts), for the edge's own rules. */
  heldBody?: Buffer;
  /** Whether `heldBody` is a form (else JSON). */
  heldForm?: boolean;
  /** The client the request names before authentication (null: none), once worked out. */
  claimedClient?: string | null;
  /** The path as the routers dispatch it (src/http/routed-path.ts): what a rule on a route compares. */
  routedPath?: string;
  /** LOCK_DEFAULT_LOCALE: the language of a page when the request asks for none Lock ships (src/web/locale.ts). */
  defaultLocale?: string;
}
