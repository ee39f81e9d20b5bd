import Router from '@koa/router';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import { type ConnectorInfo, UpstreamError } from '../connectors/connector.ts';
import { SamlRefusal } from '../connectors/saml/refusal.ts';
import {
  type IdpStatusOutcome,
  isSamlConnector,
  type SamlConnector,
  type UnsolicitedOutcome,
} from '../connectors/saml/saml-connector.ts';
import { SchemaValidatorBusy } from '../connectors/saml/xml-schema.ts';
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
// A SAML Response with an encrypted assertion and a few certificates fits with room to spare.
const ACS_FORM_LIMIT = 512 * 1024;
const AUDIT_TYPE = 'login.saml';

const START_AGAIN = 'Go back to the application and start signing in again.';

/**
 * Sign-in through an upstream SAML IdP. The IdP's answer arrives as a cross-site POST to the ACS,
 * which carries none of Lock's SameSite=Lax cookies, so the ACS cannot see the interaction: it
 * validates the response, stores the login against the request it answers, and sends the browser
 * to a same-site GET (`…/complete`) that carries the interaction cookie and the cookie binding the
 * request to this browser, and finishes the interaction there. An unsolicited (IdP-initiated)
 * response, accepted only by a connector with `idpInitiated.enabled`, is held for the browser that
 * posted it and handed to its client's next authorization request (`idpInitiatedLogin`).
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
      renderError(ctx, 400, 'This sign-in has expired', START_AGAIN);
    }
  });

  const samlConnector = (ctx: Context): SamlConnector | undefined => {
    const connector = options.connectors().get(ctx.params.connector!);
    return isSamlConnector(connector) ? connector : undefined;
  };

  const auditEvent = (
    ctx: Context,
    connector: SamlConnector,
    event: Partial<Parameters<typeof recordAuditEvent>[1]>,
  ): Parameters<typeof recordAuditEvent>[1] => ({
    type: AUDIT_TYPE,
    outcome: 'failure',
    connector: connector.id,
    ip: ctx.ip,
    userAgent: ctx.get('user-agent'),
    requestId: ctx.state.requestId,
    ...event,
  });
  const audit = (
    ctx: Context,
    connector: SamlConnector,
    event: Partial<Parameters<typeof recordAuditEvent>[1]>,
  ) => recordAuditEvent(options.pool, auditEvent(ctx, connector, event));
  // What anyone can post to an ACS in bulk is audited in aggregate (refusal-audit.ts).
  const bulkRefusals = new RefusalAudit(
    (event) => recordAuditEvent(options.pool, event),
    options.now ?? (() => new Date()),
  );

  router.get('/interaction/:uid/sso/:connector', async (ctx) => {
    const found = await options.provider().interactionDetails(ctx.req, ctx.res);
    const connector = samlConnector(ctx);
    if (found.uid !== ctx.params.uid || found.prompt.name !== 'login' || !connector)
      return renderError(ctx, 400, 'This sign-in link is not valid', START_AGAIN);
    const reasons = found.prompt.reasons ?? [];
    const maxAge = found.params.max_age;
    const maxAgeSeconds = maxAge === undefined ? undefined : Number(maxAge);
    let started: Awaited<ReturnType<SamlConnector['startLogin']>>;
    try {
      started = await connector.startLogin({
        interactionUid: found.uid,
        // The client asked for a fresh login (prompt=login, max_age): so must the IdP, and its
        // AuthnInstant is then checked against the request (and max_age) when it answers.
        forceAuthn: reasons.includes('login_prompt') || maxAgeSeconds !== undefined,
        ...(maxAgeSeconds !== undefined && Number.isSafeInteger(maxAgeSeconds) && { maxAgeSeconds }),
      });
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      ctx.state.log.warn(
        { connector: connector.id, err: { message: error.message } },
        'SAML login unavailable',
      );
      await audit(ctx, connector, {
        outcome: 'error',
        reason: error.message,
        clientId: String(found.params.client_id),
      });
      return renderError(
        ctx,
        503,
        `Sign-in with ${connector.name} is unavailable`,
        'Please try again in a moment. If it keeps happening, contact your administrator.',
      );
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

  router.post('/saml/:connector/acs', async (ctx) => {
    const connector = samlConnector(ctx);
    if (!connector) return renderError(ctx, 404, 'Unknown sign-in service', START_AGAIN);
    const form = await readForm(ctx, ACS_FORM_LIMIT);
    const samlResponse = form.get('SAMLResponse');
    if (!samlResponse) return renderError(ctx, 400, 'Sign-in failed', START_AGAIN);
    let outcome: Awaited<ReturnType<SamlConnector['receiveResponse']>>;
    try {
      outcome = await connector.receiveResponse({
        samlResponse,
        relayState: form.get('RelayState') ?? undefined,
      });
    } catch (error) {
      if (error instanceof SamlRefusal) {
        const event = auditEvent(ctx, connector, { reason: `SAML response refused: ${error.reason}` });
        if (error.precheck !== undefined) await bulkRefusals.refused(event, error.precheck);
        else await recordAuditEvent(options.pool, event);
        return renderError(
          ctx,
          400,
          `Sign-in with ${connector.name} failed`,
          `The answer from ${connector.name} could not be accepted. ${START_AGAIN}`,
        );
      }
      if (error instanceof SchemaValidatorBusy) {
        await bulkRefusals.refused(
          auditEvent(ctx, connector, {
            outcome: 'error',
            reason: `SAML response not checked: ${error.message}`,
          }),
          'validator-busy',
        );
        ctx.set('Retry-After', '5');
        return renderError(
          ctx,
          503,
          `Sign-in with ${connector.name} is busy`,
          'Too many sign-ins are being checked right now. Please try again in a moment.',
        );
      }
      if (!(error instanceof UpstreamError)) throw error;
      await audit(ctx, connector, { outcome: 'error', reason: error.message });
      return renderError(
        ctx,
        503,
        `Sign-in with ${connector.name} is unavailable`,
        'Please try again in a moment.',
      );
    }
    if (outcome.kind === 'idp-status') {
      await audit(ctx, connector, { reason: describeStatus(outcome) });
      const message = statusMessage(connector.name, outcome);
      return renderError(ctx, message.status, message.title, message.text);
    }
    if (outcome.kind === 'unsolicited') return holdUnsolicited(ctx, connector, outcome);
    ctx.status = 303;
    ctx.redirect(
      `/interaction/${encodeURIComponent(outcome.interactionUid)}/sso/${encodeURIComponent(connector.id)}/complete?request=${encodeURIComponent(outcome.requestId)}`,
    );
  });

  router.get('/interaction/:uid/sso/:connector/complete', async (ctx) => {
    const found = await options.provider().interactionDetails(ctx.req, ctx.res);
    const connector = samlConnector(ctx);
    const requestId = ctx.query.request;
    const binding = ctx.cookies.get(BINDING_COOKIE);
    if (
      found.uid !== ctx.params.uid ||
      found.prompt.name !== 'login' ||
      !connector ||
      typeof requestId !== 'string'
    )
      return renderError(ctx, 400, 'This sign-in link is not valid', START_AGAIN);
    const login = binding
      ? await connector.completeLogin({ requestId, interactionUid: found.uid, browserBinding: binding })
      : undefined;
    const clientId = String(found.params.client_id);
    if (!login) {
      await audit(ctx, connector, {
        clientId,
        reason: `completing SAML request ${requestId}: no answered request for this interaction and browser (${binding ? 'binding cookie does not match' : 'no binding cookie'})`,
      });
      return renderError(ctx, 400, `Sign-in with ${connector.name} failed`, START_AGAIN);
    }
    ctx.cookies.set(BINDING_COOKIE, '', { path: `/interaction/${found.uid}/sso/${connector.id}`, maxAge: 0 });
    const identity = await recordIdentity(options.pool, connector.id, login.identity);
    await audit(ctx, connector, {
      outcome: 'success',
      actor: identity.sub,
      subject: identity.username,
      clientId,
    });
    const amr = amrFor(login.authnContextClassRef);
    const redirectTo = await options.provider().interactionResult(
      ctx.req,
      ctx.res,
      {
        login: {
          accountId: identity.sub,
          remember: true,
          // auth_time: when the IdP authenticated the user, not when Lock heard of it.
          ...(login.authTime !== undefined && { ts: login.authTime }),
          ...(amr.length > 0 && { amr }),
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
  async function holdUnsolicited(ctx: Context, connector: SamlConnector, outcome: UnsolicitedOutcome) {
    const client = options.client(outcome.clientId);
    if (!client?.grantTypes.includes('authorization_code')) {
      await audit(ctx, connector, {
        outcome: 'error',
        subject: outcome.login.identity.username,
        clientId: outcome.clientId,
        reason: `IdP-initiated login refused: idpInitiated.clientId ${outcome.clientId} is ${client ? 'a client without the authorization_code grant' : 'not a client of Lock'}`,
      });
      return renderError(
        ctx,
        503,
        `Sign-in with ${connector.name} is unavailable`,
        'Lock cannot send you on to the application. Contact your administrator.',
      );
    }
    const held = await connector.holdUnsolicitedLogin(outcome);
    ctx.state.log.info(
      { connector: connector.id, clientId: outcome.clientId },
      'IdP-initiated SAML login held for the client',
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

  router.get('/saml/:connector/metadata', (ctx) => {
    const connector = samlConnector(ctx);
    if (!connector) throw notFound('no such SAML connector');
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/samlmetadata+xml';
    ctx.body = connector.spMetadata();
  });

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
      (connector): connector is SamlConnector =>
        isSamlConnector(connector) &&
        connector.config.idpInitiated.enabled &&
        connector.config.idpInitiated.clientId === clientId &&
        (typeof named !== 'string' || named === connector.id),
    );
    if (candidates.length === 0) return undefined; // held for another client, if at all: keep it
    ctx.cookies.set(IDP_INITIATED_COOKIE, '', { path: IDP_INITIATED_COOKIE_PATH, maxAge: 0 });
    const event = {
      type: AUDIT_TYPE,
      clientId,
      ip: ctx.ip,
      userAgent: ctx.get('user-agent'),
      requestId: ctx.state.requestId,
      details: { idpInitiated: true },
    };
    for (const connector of candidates) {
      const login = await connector.takeUnsolicitedLogin({ browserBinding: binding, clientId });
      if (!login) continue;
      const identity = await recordIdentity(options.pool, connector.id, login.identity);
      await recordAuditEvent(options.pool, {
        ...event,
        outcome: 'success',
        connector: connector.id,
        actor: identity.sub,
        subject: identity.username,
      });
      const amr = amrFor(login.authnContextClassRef);
      return {
        login: {
          accountId: identity.sub,
          remember: true,
          ...(login.authTime !== undefined && { ts: login.authTime }),
          ...(amr.length > 0 && { amr }),
          ...(login.authnContextClassRef !== undefined && { acr: login.authnContextClassRef }),
        },
      };
    }
    await recordAuditEvent(options.pool, {
      ...event,
      outcome: 'failure',
      ...(candidates.length === 1 && { connector: candidates[0]!.id }),
      reason: 'IdP-initiated login: none held for this browser and client (already used or expired)',
    });
    return undefined;
  };
}

const STATUS_PREFIX = 'urn:oasis:names:tc:SAML:2.0:status:';
const shortStatus = (code: string | undefined) => code?.replace(STATUS_PREFIX, '');

function describeStatus(outcome: IdpStatusOutcome): string {
  const codes = [outcome.statusCode, outcome.subStatusCode].map(shortStatus).filter(Boolean).join('/');
  return `the IdP answered with the status ${codes}${outcome.statusMessage ? `: ${outcome.statusMessage}` : ''}`;
}

/** What the user can do about an IdP's error status; no internals. */
function statusMessage(
  idp: string,
  outcome: IdpStatusOutcome,
): { status: number; title: string; text: string } {
  const codes = new Set([shortStatus(outcome.statusCode), shortStatus(outcome.subStatusCode)]);
  if (codes.has('AuthnFailed'))
    return {
      status: 401,
      title: `${idp} could not sign you in`,
      text: `${idp} did not confirm who you are. ${START_AGAIN} If it keeps happening, contact your administrator.`,
    };
  if (codes.has('RequestDenied'))
    return {
      status: 403,
      title: `${idp} refused the sign-in`,
      text: `${idp} did not allow you to sign in to this service. Contact your administrator if you need access.`,
    };
  if (codes.has('NoPassive') || codes.has('NoAuthnContext'))
    return {
      status: 401,
      title: `${idp} could not sign you in`,
      text: `${idp} could not sign you in the way this service asks for. ${START_AGAIN}`,
    };
  return {
    status: 502,
    title: `Sign-in with ${idp} failed`,
    text: `${idp} had a problem signing you in. Please try again later; if it keeps happening, contact your administrator.`,
  };
}

// RFC 8176 values for the SAML authentication contexts whose meaning is clear.
function amrFor(classRef: string | undefined): string[] {
  if (!classRef) return [];
  if (/:ac:classes:(Password|PasswordProtectedTransport)$/.test(classRef)) return ['pwd'];
  if (classRef === 'https://refeds.org/profile/mfa') return ['mfa'];
  if (/:ac:classes:(Smartcard|SmartcardPKI)$/.test(classRef)) return ['sc'];
  return [];
}

function renderError(ctx: Context, status: number, title: string, message: string) {
  sendErrorPage(ctx, { status, title, message, requestId: ctx.state.requestId });
}
