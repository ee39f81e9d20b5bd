// /account (docs/account.md): a signed-in person's own password, second factors and sessions.
// These routes sign the person in as Lock's own relying party (src/account/account-sign-in.ts),
// keep the page's own session (src/account/page-sessions.ts), and hand everything else to the
// sections: each renders its part of the overview and registers its own routes.
import Router from '@koa/router';
import type { AccountRequest } from '../../account/account-context.ts';
import type { AccountService } from '../../account/account-service.ts';
import { PENDING_SIGN_IN_SECONDS, safeReturnPath } from '../../account/account-sign-in.ts';
import { ACCOUNT_CLIENT_ID } from '../../catalog/built-ins.ts';
import { readForm } from '../../web/form-body.ts';
import { localeFor } from '../../web/locale.ts';
import { createCsrf } from '../csrf.ts';
import { sendErrorPage } from '../error-page.ts';
import { LOCK_CSP } from '../views.ts';
import { renderAccountFragment, renderAccountPage } from './account-views.ts';
import { appsSection } from './apps-section.ts';
import { passwordSection } from './password-section.ts';
import type { AccountContext, AccountKit, AccountSection, AccountState } from './section.ts';
import { sessionsSection } from './sessions-section.ts';
import { signInsSection } from './sign-ins-section.ts';
import { twoStepSection } from './two-step-section.ts';

export interface AccountRoutesOptions {
  issuer: string;
  service: AccountService;
  /** Keys the forms' CSRF tokens (derived from the KEK): each bound to one page session. */
  csrfKey: Buffer;
  /** The overview's sections, in order; default: DEFAULT_SECTIONS. */
  sections?: AccountSection[];
}

/** The overview's sections, in order. A new section is one module and one line here. */
export const DEFAULT_SECTIONS: AccountSection[] = [
  passwordSection,
  twoStepSection,
  sessionsSection,
  appsSection,
  signInsSection,
];

const SESSION_COOKIE = 'lock_account';
const SIGN_IN_COOKIE = 'lock_account_signin';
/** The pages reachable without a page session: the sign-in and its return. */
const OPEN_PATHS = new Set(['/account/login', '/account/callback']);

export function accountRoutes(options: AccountRoutesOptions): Router<AccountState> {
  const { service } = options;
  const sections = options.sections ?? DEFAULT_SECTIONS;
  const secure = options.issuer.startsWith('https:');
  const csrf = createCsrf(options.csrfKey);
  const router = new Router<AccountState>();

  const setCookie = (ctx: AccountContext, name: string, value: string, maxAge?: number) => {
    ctx.append(
      'Set-Cookie',
      [
        `${name}=${value}`,
        'Path=/account',
        'HttpOnly',
        'SameSite=Lax',
        ...(secure ? ['Secure'] : []),
        ...(maxAge !== undefined ? [`Max-Age=${maxAge}`] : []),
      ].join('; '),
    );
  };

  const toSignIn = (ctx: AccountContext, returnTo: string, fresh: boolean) => {
    const { location, pending } = service.signIn.start(returnTo, fresh);
    setCookie(ctx, SIGN_IN_COOKIE, pending, PENDING_SIGN_IN_SECONDS);
    ctx.status = 303;
    ctx.redirect(location);
  };

  const csrfSubject = (ctx: AccountContext) => `account:${ctx.state.account.session.idHash}`;

  const kit: AccountKit = {
    service,
    async requireRecentAuthentication(ctx, returnTo) {
      if (service.pageSessions.isRecent(ctx.state.account.session)) return true;
      toSignIn(ctx, returnTo, true);
      return false;
    },
    csrfToken: (ctx) => csrf.tokenFor(csrfSubject(ctx)),
    async readCheckedForm(ctx) {
      const form = await readForm(ctx);
      if (csrf.isValid(csrfSubject(ctx), form.get('csrf'))) return form;
      kit.refuse(ctx, 403, 'account.errors.form_expired.title', 'account.errors.form_expired.message');
      return undefined;
    },
    request: (ctx): AccountRequest => ({
      ip: ctx.ip,
      userAgent: ctx.get('user-agent'),
      requestId: ctx.state.requestId,
    }),
    locale: (ctx) => localeFor(ctx),
    renderPage(ctx, view, data) {
      const locale = localeFor(ctx);
      ctx.set('Content-Security-Policy', LOCK_CSP);
      ctx.set('Content-Language', locale.language);
      ctx.type = 'html';
      ctx.body = renderAccountPage(view, data, locale);
    },
    renderFragment: (ctx, view, data) => renderAccountFragment(view, data, localeFor(ctx)),
    done(ctx, notice, anchor) {
      ctx.status = 303;
      ctx.redirect(`/account?done=${encodeURIComponent(notice)}${anchor ? `#${anchor}` : ''}`);
    },
    refuse(ctx, status, title, message) {
      sendErrorPage(ctx, { status, title, message, requestId: ctx.state.requestId });
    },
  };

  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    if (OPEN_PATHS.has(ctx.path)) return next();
    const session = await service.pageSessions.current(ctx.cookies.get(SESSION_COOKIE));
    const person = session && (await service.person(session));
    if (!session || !person) {
      // A page is asked again after the sign-in; a form (its page is stale) comes back to the overview.
      return toSignIn(ctx, ctx.method === 'GET' ? safeReturnPath(ctx.path) : '/account', false);
    }
    ctx.state.account = { session, person };
    await next();
  });

  router.get('/account/login', (ctx) => {
    toSignIn(ctx, safeReturnPath(ctx.query.return), ctx.query.fresh === '1');
  });

  router.get('/account/callback', async (ctx) => {
    const outcome = await service.signIn.finish(ctx.query, ctx.cookies.get(SIGN_IN_COOKIE));
    setCookie(ctx, SIGN_IN_COOKIE, '', 0);
    if (outcome.status === 'denied')
      return kit.refuse(
        ctx,
        403,
        'account.errors.not_signed_in.title',
        'account.errors.not_signed_in.message',
      );
    if (outcome.status === 'refused') {
      ctx.state.log.info({ reason: outcome.reason }, 'account sign-in refused');
      return kit.refuse(
        ctx,
        400,
        'account.errors.sign_in_expired.title',
        'account.errors.sign_in_expired.message',
      );
    }
    // A fresh id at every sign-in: a page session id is never carried across one.
    await service.pageSessions.close(ctx.cookies.get(SESSION_COOKIE));
    setCookie(ctx, SESSION_COOKIE, await service.pageSessions.open(outcome.signedIn));
    ctx.status = 303;
    ctx.redirect(outcome.signedIn.returnTo);
  });

  router.get('/account', async (ctx) => {
    const { person } = ctx.state.account;
    const shown = sections.filter((section) => section.shows?.(person) ?? true);
    const doneKey = typeof ctx.query.done === 'string' ? ctx.query.done : '';
    const locale = kit.locale(ctx);
    const notice = shown.map((section) => section.notices?.[doneKey]).find((key) => key !== undefined);
    kit.renderPage(ctx, 'overview', {
      title: 'account.title',
      username: person.username,
      connectorName: service.options.connectors().get(person.connector)?.name ?? person.connector,
      managedElsewhere: person.localUserId === undefined,
      notice: notice && locale.t(notice),
      sections: await Promise.all(
        shown.map(async (section) => ({
          id: section.id,
          title: locale.t(section.title),
          html: await section.render(ctx, kit),
        })),
      ),
      signOutAction: '/session/end',
      clientId: ACCOUNT_CLIENT_ID,
      postLogoutRedirectUri: `${options.issuer}/account`,
    });
  });

  for (const section of sections) section.register(router, kit);
  return router;
}
