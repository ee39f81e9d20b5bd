import { createHash } from 'node:crypto';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { AuditEvent } from '../audit/audit.ts';
import { DEVICE_FLOW_DEFAULTS } from '../config/defaults.ts';
import { DEVICE_CODE } from '../model/client.ts';
import type { BruteForceGuard } from '../security/brute-force.ts';
import { claimedClientId } from '../security/client-auth-guard.ts';
import { recordDevicePoll } from '../store/device-code-polls.ts';
import type { Queryable } from '../store/pool.ts';
import type { LockState } from '../web/lock-state.ts';

/**
 * The device authorization grant (RFC 8628, docs/device-flow.md) around oidc-provider's own:
 * Lock's pages for its user-code routes, the approval asked on every device sign-in
 * (first-party-consent.ts), `interval` and `slow_down` (which oidc-provider leaves out), the
 * brute-force budget of user codes, and audit events for approvals and denials.
 */

/**
 * The pages of the user-code routes (`/device`), rendered by the layer above (provider-pages.ts).
 * `error`, `notice`, `title` and `message` are keys of the message catalogue (views/locales/en.json).
 */
export interface DevicePages {
  /** "Enter the code your device shows": a form that POSTs `xsrf` and `user_code` to `formAction`. */
  deviceUserCode(
    ctx: KoaContextWithOIDC,
    page: { formAction: string; xsrf: string; userCode?: string; error?: string; notice?: string },
  ): void;
  /** "Is this your device?": the client and the code; POSTs `confirm=yes` to go on, `abort=yes` to deny. */
  deviceConfirm(
    ctx: KoaContextWithOIDC,
    page: { formAction: string; xsrf: string; userCode: string; clientName?: string },
  ): void;
  /** The device is signed in: the person may close the page. */
  deviceApproved(ctx: KoaContextWithOIDC, page: { clientName?: string }): void;
  /** The one error page (a locked-out address). */
  error(ctx: KoaContextWithOIDC, page: { title: string; message: string; requestId?: string }): void;
}

/** What oidc-provider's user-code errors (its ReRenderError family) mean to the person at the page. */
const USER_CODE_ERRORS: Record<string, string> = {
  NoCodeError: 'device.errors.code_required',
  NotFoundError: 'device.errors.code_wrong',
  ExpiredError: 'device.errors.code_expired',
  AlreadyUsedError: 'device.errors.code_used',
};
/** Wrong guesses: they stay counted against the address (a found code gives its attempt back). */
const WRONG_CODE = new Set(['NoCodeError', 'NotFoundError']);

/** The route a request reaches, however spelt (`/DEVICE/`), as the edge worked it out. */
const routeOf = (ctx: Koa.Context) => (ctx.state as LockState).routedPath ?? ctx.path;

const xsrfOf = (form: string) => /name="xsrf" value="([^"]+)"/.exec(form)?.[1] ?? '';
/** The client's name, else its id; undefined when none is known (the page then says "the application"). */
const clientNameOf = (client: { clientId: string; clientName?: string | undefined } | undefined) =>
  client?.clientName ?? client?.clientId;

/**
 * The client of a device sign-in wherever it stops: Deny on "Is this your device?" comes before
 * oidc-provider loads the client (the device code names it), Cancel on the approval screen ends
 * in the resumed interaction (whose parameters name it).
 */
function clientIdOf(ctx: KoaContextWithOIDC): string | undefined {
  const fromInteraction = ctx.oidc.entities.Interaction?.params?.client_id;
  return (
    ctx.oidc.client?.clientId ??
    ctx.oidc.entities.DeviceCode?.clientId ??
    (typeof fromInteraction === 'string' ? fromInteraction : undefined)
  );
}

export interface DeviceFlowOptions {
  pages: DevicePages;
  audit?: (event: AuditEvent) => void;
}

/** Requests of the user-code routes whose code was wrong (read by `userCodeBruteForce`). */
const wrongCodes = new WeakSet<object>();

/** oidc-provider's `features.deviceFlow`, with Lock's pages. */
export function deviceFlowFeature(
  options: DeviceFlowOptions,
): NonNullable<Configuration['features']>['deviceFlow'] {
  const { pages, audit } = options;
  const about = (ctx: KoaContextWithOIDC) => ({
    ...(clientIdOf(ctx) !== undefined && { clientId: clientIdOf(ctx) }),
    ...(ctx.oidc.session?.accountId && { actor: ctx.oidc.session.accountId }),
    ip: ctx.ip,
    userAgent: ctx.get('user-agent'),
  });
  return {
    enabled: true,
    charset: 'base-20',
    mask: '****-****',
    userCodeInputSource: async (ctx, form, out, error) => {
      const name = (error as { name?: string } | undefined)?.name;
      const formAction = ctx.oidc.urlFor('code_verification');
      const typed = (error as { userCode?: string } | undefined)?.userCode;
      if (name && WRONG_CODE.has(name)) wrongCodes.add(ctx);
      if (name === 'AbortedError') {
        audit?.({
          type: 'device.denied',
          outcome: 'failure',
          reason: 'the person denied access',
          ...about(ctx),
        });
        return pages.deviceUserCode(ctx, {
          formAction,
          xsrf: xsrfOf(form),
          notice: 'device.code.denied',
        });
      }
      // Other errors (oidc-provider's developer text) are logged, and the person told to start again.
      if ((name !== undefined && USER_CODE_ERRORS[name] === undefined) || (name === undefined && out))
        (ctx.state as LockState).log.info(
          { error: out?.error ?? name, description: out?.error_description },
          'device sign-in could not be completed',
        );
      const message =
        name === undefined
          ? out
            ? 'device.errors.not_completed'
            : undefined
          : (USER_CODE_ERRORS[name] ?? 'device.errors.not_completed');
      pages.deviceUserCode(ctx, {
        formAction,
        xsrf: xsrfOf(form),
        ...(typed !== undefined && { userCode: typed }),
        ...(message !== undefined && { error: message }),
      });
    },
    userCodeConfirmSource: async (ctx, form, client, _deviceInfo, userCode) => {
      pages.deviceConfirm(ctx, {
        formAction: ctx.oidc.urlFor('code_verification'),
        xsrf: xsrfOf(form),
        userCode,
        clientName: clientNameOf(client),
      });
    },
    successSource: async (ctx) => {
      const code = ctx.oidc.entities.DeviceCode;
      audit?.({
        type: 'device.approved',
        outcome: 'success',
        ...about(ctx),
        details: { scope: code?.scope, resource: code?.resource },
      });
      pages.deviceApproved(ctx, { clientName: clientNameOf(ctx.oidc.client) });
    },
  };
}

/**
 * The device pages reached from a browser without a live session (no cookie: a cross-site post,
 * SameSite; a session that expired; a resume link `/device/<uid>` opened elsewhere or too late)
 * make oidc-provider fail with a TypeError as it saves the error page's new xsrf into a session
 * that was never stored (a 500). Such a request starts the page afresh instead: a new session and
 * form. The route is the one oidc-provider dispatched to, whatever the path's spelling.
 */
export function devicePagesWithoutSession(): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const route = (ctx as unknown as Partial<KoaContextWithOIDC>).oidc?.route;
      if (
        !(error instanceof TypeError) ||
        !DEVICE_PAGE_ROUTES.has(route ?? '') ||
        !/previously persisted Sessions/.test(error.message)
      )
        throw error;
      ctx.status = 303;
      ctx.redirect('/device');
    }
  };
}

/** oidc-provider's routes that render the user-code page on an error: the code's post, the resume. */
const DEVICE_PAGE_ROUTES = new Set(['code_verification', 'device_resume']);

/** Only the methods of the sign-in guard that count user codes. */
export type UserCodeAttempts = Pick<BruteForceGuard, 'reserveUserCode' | 'releaseUserCode'>;

/**
 * RFC 8628 §5.1: a user code is short, so every post of the user-code page reserves an attempt
 * for its address BEFORE the code is looked up (a burst of guesses cannot outrun the count);
 * a code that was found gives it back. Past the budget the address is refused for a while.
 */
export function userCodeBruteForce(attempts: UserCodeAttempts, pages: DevicePages): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || routeOf(ctx) !== '/device') return next();
    const admission = await attempts.reserveUserCode(ctx.ip);
    if (!admission.admitted) {
      ctx.status = 429;
      ctx.set('Cache-Control', 'no-store');
      pages.error(ctx as unknown as KoaContextWithOIDC, {
        title: 'errors.too_many_codes.title',
        message: 'errors.too_many_codes.message',
      });
      return;
    }
    try {
      await next();
    } finally {
      if (!wrongCodes.has(ctx)) await attempts.releaseUserCode(ctx.ip);
    }
  };
}

/**
 * RFC 8628 §3.5 `slow_down`, which oidc-provider does not implement: a poll of a pending device
 * code that comes before the device's interval is up is answered `slow_down`, and the interval
 * grows by 5 seconds. Runs before oidc-provider's token endpoint, on the form the edge has read;
 * only codes that exist, are pending and belong to the client the request names are counted
 * (a made-up code adds no row; the client is then authenticated by oidc-provider as usual).
 */
export function devicePolling(
  db: Queryable,
  provider: Provider,
  now: () => Date = () => new Date(),
): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || routeOf(ctx) !== '/token') return next();
    const state = ctx.state as LockState;
    // The token path's steady state (codes, refreshes, services) parses nothing more.
    if (!state.heldForm || !state.heldBody?.includes('device_code')) return next();
    const form = new URLSearchParams(state.heldBody.toString('utf8'));
    const value = form.get('device_code');
    if (form.get('grant_type') !== DEVICE_CODE || !value || value.length > 512) return next();
    const code = await provider.DeviceCode.find(value);
    if (!code || code.accountId || code.error || code.isExpired) return next();
    if (claimedClientId(ctx.get('authorization'), state.heldBody) !== code.clientId) return next();
    const poll = await recordDevicePoll(db, {
      codeHash: createHash('sha256').update(value).digest('base64url'),
      now: now(),
      intervalSeconds: DEVICE_FLOW_DEFAULTS.pollIntervalSeconds,
      slowDownIncrementSeconds: DEVICE_FLOW_DEFAULTS.slowDownIncrementSeconds,
      expiresAt: new Date((code.exp ?? 0) * 1000),
    });
    if (!poll.tooFast) return next();
    ctx.status = 400;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      error: 'slow_down',
      error_description: `poll at most every ${poll.intervalSeconds} seconds`,
    };
  };
}

/** RFC 8628 §3.2: oidc-provider names no `interval`; Lock states its own. */
export function announceInterval(provider: Provider): void {
  provider.on('device_authorization.success', (_ctx, body: Record<string, unknown>) => {
    body.interval = DEVICE_FLOW_DEFAULTS.pollIntervalSeconds;
  });
}
