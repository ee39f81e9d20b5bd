import Router from '@koa/router';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import {
  type CallbackRoute,
  type ConnectorInfo,
  isMetadataConnector,
  isRedirectConnector,
  isUnsolicitedLoginConnector,
  type RedirectConnector,
  type UnsolicitedLogin,
  type UnsolicitedLoginConnector,
  UpstreamError,
  type UpstreamRefusal,
} from '../connectors/connector.ts';
import { CONNECTOR_TYPE_MODULES } from '../connectors/registry.ts';
import { notFound } from '../observability/errors.ts';
import { recordIdentity } from '../store/identities.ts';
import { readForm } from '../web/form-body.ts';
import type { LockState } from '../web/lock-state.ts';
import { sendErrorPage } from './error-page.ts';
import { RefusalAudit } from './refusal-audit.ts';

export interface SsoRouteOptions {
  pool: pg.Pool;
  provider: () => Provider;
  connectors: () => ReadonlyMap<string, ConnectorInfo>;
  /** The catalog's client of this id, read at each use (IdP-initiated logins land in one). */
  client: (clientId: string) => { grantTypes: readonly string[] } | undefined;
  now?: () => Date;
}

type Context = Koa.ParameterizedContext<LockState>;
type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

const BINDING_COOKIE = 'lock_sso';
// Binds an IdP-initiated login held by the ACS to the browser that posted it; read by the login step.
const IDP_INITIATED_COOKIE = 'lock_saml_idp';
const IDP_INITIATED_COOKIE_PATH = '/interaction';
const DEFAULT_FORM_LIMIT = 64 * 1024;
const auditType = (connector: ConnectorInfo) => `login.${connector.type}`;
// How messages and audits name a type: SAML, OIDC.
const label = (type: string) => type.toUpperCase();
const responses = (connector: ConnectorInfo) => `${label(connector.type)} responses`;

// The pages' words are catalogue keys (views/locales/en.json, `errors.*`), `{{idp}}` the connector's name.
const START_AGAIN = 'errors.start_again';

/**
 * Sign-in through an upstream by redirect (RedirectConnector: SAML, upstream OpenID Connect and
 * OAuth 2.0). The upstream's answer arrives at its type's callback route (for oidc and oauth2 the
 * one `/sso/:connector/callback`), for SAML a cross-site POST to the ACS, which carries none of Lock's
 * SameSite=Lax cookies, so the callback cannot see the interaction: the connector checks the
 * answer and stores the login against the request it answers, and the browser goes on to a
 * same-site GET (`…/complete`) that carries the interaction cookie and the cookie binding the
 * request to this browser, and finishes the interaction there. A login the upstream started
 * (UnsolicitedLoginConnector: SAML IdP-initiated) is held for the browser that brought it and
 * handed to its client's next authorization request (`idpInitiatedLogin`).
 */
export function ssoRoutes(options: SsoRouteOptions): Router<LockState> {
  const router = new Router<LockState>();

  // Every page of the flow: never cached, never framed; an interaction that is gone says so.
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    try {
      await next();
    } catch (error) {
      if ((error as { name?: string }).name !== 'SessionNotFound') throw error;
      renderError(ctx, 400, 'errors.sign_in_expired.title', START_AGAIN);
    }
  });

  const redirectConnector = (ctx: Context, type?: string): RedirectConnector | undefined => {
    const connector = options.connectors().get(ctx.params.connector!);
    return isRedirectConnector(connector) && (type === undefined || connector.type === type)
      ? connector
      : undefined;
  };

  const auditEvent = (
    ctx: Context,
    connector: ConnectorInfo,
    event: Partial<Parameters<typeof recordAuditEvent>[1]>,
  ): Parameters<typeof recordAuditEvent>[1] => ({
    type: auditType(connector),
    outcome: 'failure',
    connector: connector.id,
    ip: ctx.ip,
    userAgent: ctx.get('user-agent'),
    requestId: ctx.state.requestId,
    ...event,
  });
  const audit = (
    ctx: Context,
    connector: ConnectorInfo,
    event: Partial<Parameters<typeof recordAuditEvent>[1]>,
  ) => recordAuditEvent(options.pool, auditEvent(ctx, connector, event));
  // What anyone can post to a callback in bulk is audited in aggregate (refusal-audit.ts).
  const bulkRefusals = new RefusalAudit(
    (event) => recordAuditEvent(options.pool, event),
    options.now ?? (() => new Date()),
  );

  router.get('/interaction/:uid/sso/:connector', async (ctx) => {
    const found = await options.provider().interactionDetails(ctx.req, ctx.res);
    const connector = redirectConnector(ctx);
    if (found.uid !== ctx.params.uid || found.prompt.name !== 'login' || !connector)
      return renderError(ctx, 400, 'errors.invalid_link.title', START_AGAIN, found);
    const reasons = found.prompt.reasons ?? [];
    const maxAge = found.params.max_age;
    const maxAgeSeconds = maxAge === undefined ? undefined : Number(maxAge);
    let started: Awaited<ReturnType<RedirectConnector['start']>>;
    try {
      started = await connector.start({
        interactionUid: found.uid,
        // The client asked for a fresh login (prompt=login, max_age): so must the upstream, and its
        // authentication time is then checked against the request (and max_age) when it answers.
        forceAuthn: reasons.includes('login_prompt') || maxAgeSeconds !== undefined,
        ...(maxAgeSeconds !== undefined && Number.isSafeInteger(maxAgeSeconds) && { maxAgeSeconds }),
      });
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      ctx.state.log.warn(
        { connector: connector.id, err: { message: error.message } },
        `${label(connector.type)} login unavailable`,
      );
      await audit(ctx, connector, {
        outcome: 'error',
        reason: error.message,
        clientId: String(found.params.client_id),
      });
      return renderError(ctx, 503, 'errors.sso.unavailable.title', 'errors.sso.unavailable.message', found, {
        idp: connector.name,
      });
    }
    ctx.cookies.set(BINDING_COOKIE, started.browserBinding, {
      path: `/interaction/${found.uid}/sso/${connector.id}`,
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      maxAge: 15 * 60_000,
      overwrite: true,
    });
    ctx.status = 303;
    ctx.redirect(started.redirectUrl);
  });

  const receive = (types: ReadonlySet<string>, route: CallbackRoute) => async (ctx: Context) => {
    const connector = redirectConnector(ctx);
    if (!connector || !types.has(connector.type))
      return renderError(ctx, 404, 'errors.sso.unknown_service.title', START_AGAIN);
    const params =
      route.method === 'post'
        ? await readForm(ctx, route.formLimit ?? DEFAULT_FORM_LIMIT)
        : new URLSearchParams(ctx.querystring);
    let outcome: Awaited<ReturnType<RedirectConnector['receive']>>;
    try {
      outcome = await connector.receive(params);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      await audit(ctx, connector, { outcome: 'error', reason: error.message });
      return renderError(
        ctx,
        503,
        'errors.sso.unavailable.title',
        'errors.sso.unavailable.message',
        undefined,
        {
          idp: connector.name,
        },
      );
    }
    switch (outcome.kind) {
      case 'malformed':
        return renderError(ctx, 400, 'errors.sign_in_failed.title', START_AGAIN);
      case 'rejected': {
        const event = auditEvent(ctx, connector, { reason: outcome.reason });
        if (outcome.bulk !== undefined) await bulkRefusals.refused(event, outcome.bulk, responses(connector));
        else await recordAuditEvent(options.pool, event);
        return renderError(ctx, 400, 'errors.sso.failed.title', 'errors.sso.answer_refused', undefined, {
          idp: connector.name,
        });
      }
      case 'busy':
        await bulkRefusals.refused(
          auditEvent(ctx, connector, { outcome: 'error', reason: outcome.reason }),
          outcome.bulk,
          responses(connector),
        );
        ctx.set('Retry-After', '5');
        return renderError(ctx, 503, 'errors.sso.busy.title', 'errors.sso.busy.message', undefined, {
          idp: connector.name,
        });
      case 'upstream-refused': {
        await audit(ctx, connector, { reason: outcome.reason });
        const message = refusalMessage(outcome.refusal);
        return renderError(ctx, message.status, message.title, message.text, undefined, {
          idp: connector.name,
        });
      }
      case 'unsolicited':
        // Only a connector that accepts them makes this outcome.
        if (!isUnsolicitedLoginConnector(connector))
          throw new Error(`${connector.id}: unsolicited login without the capability`);
        return holdUnsolicited(ctx, connector, outcome);
      case 'answered':
        ctx.status = 303;
        ctx.redirect(
          `/interaction/${encodeURIComponent(outcome.interactionUid)}/sso/${encodeURIComponent(connector.id)}/complete?request=${encodeURIComponent(outcome.requestId)}`,
        );
    }
  };

  const serveMetadata = (type: string) => (ctx: Context) => {
    const connector = options.connectors().get(ctx.params.connector!);
    if (connector?.type !== type || !isMetadataConnector(connector))
      throw notFound(`no such ${label(type)} connector`);
    const metadata = connector.metadata();
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = metadata.contentType;
    ctx.body = metadata.body;
  };

  // Each type's endpoints, as its module declares them: a callback route several types share
  // (`/sso/:connector/callback`) is mounted once, and the connector id in the path picks the connector.
  for (const { route, types } of callbackRoutes()) router[route.method](route.path, receive(types, route));
  for (const module of CONNECTOR_TYPE_MODULES) {
    if (!('redirect' in module)) continue;
    const metadataPath = 'metadataPath' in module.redirect ? module.redirect.metadataPath : undefined;
    if (metadataPath !== undefined) router.get(metadataPath, serveMetadata(module.type));
  }

  router.get('/interaction/:uid/sso/:connector/complete', async (ctx) => {
    const found = await options.provider().interactionDetails(ctx.req, ctx.res);
    const connector = redirectConnector(ctx);
    const requestId = ctx.query.request;
    const binding = ctx.cookies.get(BINDING_COOKIE);
    if (
      found.uid !== ctx.params.uid ||
      found.prompt.name !== 'login' ||
      !connector ||
      typeof requestId !== 'string'
    )
      return renderError(ctx, 400, 'errors.invalid_link.title', START_AGAIN, found);
    const login = binding
      ? await connector.complete({ requestId, interactionUid: found.uid, browserBinding: binding })
      : undefined;
    const clientId = String(found.params.client_id);
    if (!login) {
      await audit(ctx, connector, {
        clientId,
        reason: `completing ${label(connector.type)} request ${requestId}: no answered request for this interaction and browser (${binding ? 'binding cookie does not match' : 'no binding cookie'})`,
      });
      return renderError(ctx, 400, 'errors.sso.failed.title', START_AGAIN, found, { idp: connector.name });
    }
    ctx.cookies.set(BINDING_COOKIE, '', { path: `/interaction/${found.uid}/sso/${connector.id}`, maxAge: 0 });
    const identity = await recordIdentity(options.pool, connector.id, login.identity);
    await audit(ctx, connector, {
      outcome: 'success',
      actor: identity.sub,
      subject: identity.username,
      clientId,
    });
    const redirectTo = await options.provider().interactionResult(
      ctx.req,
      ctx.res,
      {
        login: {
          accountId: identity.sub,
          remember: true,
          // auth_time: when the IdP authenticated the user, not when Lock heard of it.
          ...(login.authTime !== undefined && { ts: login.authTime }),
          ...(login.amr !== undefined && { amr: login.amr }),
          ...(login.authnContextClassRef !== undefined && { acr: login.authnContextClassRef }),
        },
      },
      { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(redirectTo);
  });

  /**
   * An IdP-initiated login the connector accepted: checked against the catalog now, held for this
   * browser (cookie set on this 303, the answer to a cross-site top-level POST, which may set a
   * SameSite=Lax cookie), and the browser sent to the client's login initiation endpoint. The
   * client's own authorization request then takes it in the login step (idpInitiatedLogin below).
   */
  async function holdUnsolicited(
    ctx: Context,
    connector: UnsolicitedLoginConnector,
    outcome: UnsolicitedLogin,
  ) {
    const client = options.client(outcome.clientId);
    if (!client?.grantTypes.includes('authorization_code')) {
      await audit(ctx, connector, {
        outcome: 'error',
        subject: outcome.login.identity.username,
        clientId: outcome.clientId,
        reason: `IdP-initiated login refused: idpInitiated.clientId ${outcome.clientId} is ${client ? 'a client without the authorization_code grant' : 'not a client of Lock'}`,
      });
      return renderError(ctx, 503, 'errors.sso.unavailable.title', 'errors.sso.no_client', undefined, {
        idp: connector.name,
      });
    }
    const held = await connector.holdUnsolicited(outcome);
    ctx.state.log.info(
      { connector: connector.id, clientId: outcome.clientId },
      `IdP-initiated ${label(connector.type)} login held for the client`,
    );
    ctx.cookies.set(IDP_INITIATED_COOKIE, held.browserBinding, {
      path: IDP_INITIATED_COOKIE_PATH,
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      maxAge: held.maxAgeMs,
      overwrite: true,
    });
    ctx.status = 303;
    ctx.redirect(held.redirectUrl);
  }

  return router;
}

/**
 * The login step's hook (interactionRoutes' `pendingLogin`): finishes a client's login with the
 * IdP-initiated login held for this browser (its cookie) and this client, taking it once. Not when
 * the client asked for a fresh authentication (prompt=login, max_age), which Lock did not see, nor
 * when `connector=<id>` names another connector: then the login page works as ever.
 */
export function idpInitiatedLogin(options: Pick<SsoRouteOptions, 'pool' | 'connectors'>) {
  return async (ctx: Context, interaction: Interaction): Promise<InteractionResults | undefined> => {
    const binding = ctx.cookies.get(IDP_INITIATED_COOKIE);
    if (!binding) return undefined;
    const reasons = interaction.prompt.reasons ?? [];
    if (reasons.includes('login_prompt') || reasons.includes('max_age')) return undefined;
    const clientId = String(interaction.params.client_id);
    const named = interaction.params.connector;
    const candidates = [...options.connectors().values()].filter(
      (connector): connector is UnsolicitedLoginConnector =>
        isUnsolicitedLoginConnector(connector) &&
        connector.acceptsUnsolicitedFor(clientId) &&
        (typeof named !== 'string' || named === connector.id),
    );
    if (candidates.length === 0) return undefined; // held for another client, if at all: keep it
    ctx.cookies.set(IDP_INITIATED_COOKIE, '', { path: IDP_INITIATED_COOKIE_PATH, maxAge: 0 });
    const event = {
      clientId,
      ip: ctx.ip,
      userAgent: ctx.get('user-agent'),
      requestId: ctx.state.requestId,
      details: { idpInitiated: true },
    };
    for (const connector of candidates) {
      const login = await connector.takeUnsolicited({ browserBinding: binding, clientId });
      if (!login) continue;
      const identity = await recordIdentity(options.pool, connector.id, login.identity);
      await recordAuditEvent(options.pool, {
        ...event,
        type: auditType(connector),
        outcome: 'success',
        connector: connector.id,
        actor: identity.sub,
        subject: identity.username,
      });
      return {
        login: {
          accountId: identity.sub,
          remember: true,
          ...(login.authTime !== undefined && { ts: login.authTime }),
          ...(login.amr !== undefined && { amr: login.amr }),
          ...(login.authnContextClassRef !== undefined && { acr: login.authnContextClassRef }),
        },
      };
    }
    await recordAuditEvent(options.pool, {
      ...event,
      type: auditType(candidates[0]!),
      outcome: 'failure',
      ...(candidates.length === 1 && { connector: candidates[0]!.id }),
      reason: 'IdP-initiated login: none held for this browser and client (already used or expired)',
    });
    return undefined;
  };
}

/**
 * The redirect types' callback routes, each (method and path) once with the types that answer at
 * it. Types sharing a path must agree on how it is read (method, form limit).
 */
export function callbackRoutes(): Array<{ route: CallbackRoute; types: Set<string> }> {
  const routes = new Map<string, { route: CallbackRoute; types: Set<string> }>();
  for (const module of CONNECTOR_TYPE_MODULES) {
    if (!('redirect' in module)) continue;
    const route: CallbackRoute = module.redirect.callbackRoute;
    const key = `${route.method} ${route.path}`;
    const shared = routes.get(key);
    if (!shared) routes.set(key, { route, types: new Set([module.type]) });
    else if (shared.route.formLimit !== route.formLimit)
      throw new Error(`${module.type}: the callback route ${key} is shared with another form limit`);
    else shared.types.add(module.type);
  }
  return [...routes.values()];
}

/** What the user can do about an upstream's refusal (catalogue keys, `{{idp}}`); no internals. */
function refusalMessage(refusal: UpstreamRefusal): { status: number; title: string; text: string } {
  if (refusal === 'authn-failed')
    return { status: 401, title: 'errors.sso.not_confirmed.title', text: 'errors.sso.not_confirmed.message' };
  if (refusal === 'denied')
    return { status: 403, title: 'errors.sso.denied.title', text: 'errors.sso.denied.message' };
  if (refusal === 'unsupported-context')
    return {
      status: 401,
      title: 'errors.sso.unsupported_context.title',
      text: 'errors.sso.unsupported_context.message',
    };
  return { status: 502, title: 'errors.sso.failed.title', text: 'errors.sso.failed.message' };
}

/** The error page: `title`, `message` catalogue keys; in the sign-in's language when `found` is known. */
function renderError(
  ctx: Context,
  status: number,
  title: string,
  message: string,
  found?: Interaction,
  values?: Record<string, string>,
) {
  sendErrorPage(ctx, {
    status,
    title,
    message,
    uiLocales: found?.params.ui_locales,
    ...(values && { values }),
  });
}
