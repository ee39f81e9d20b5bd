import Router from '@koa/router';
import type Koa from 'koa';
import { z } from 'zod';
import type { PasswordReset, ResetRequestContext } from '../login/password-reset.ts';
import { PASSWORD_RESET_PATH } from '../login/password-reset.ts';
import { confirmEmail, VERIFY_EMAIL_PATH, verificationLinkUsable } from '../mail/email-verification.ts';
import type { Mail } from '../mail/mail.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../security/passwords.ts';
import { readForm } from '../web/form-body.ts';
import type { Locale } from '../web/i18n.ts';
import { localeFor } from '../web/locale.ts';
import type { LockState } from '../web/lock-state.ts';
import { sendErrorPage } from './error-page.ts';
import { LOCK_CSP, renderView } from './views.ts';

export interface EmailRouteOptions {
  mail: Mail;
  passwordReset: PasswordReset;
}

type Context = Koa.ParameterizedContext<LockState>;

const requestForm = z.object({
  identifier: z
    .string()
    .trim()
    .min(1, 'reset.errors.identifier_required')
    .max(256, 'reset.errors.identifier_too_long'),
});

const LINK_REFUSED = {
  status: 400,
  title: 'errors.link_refused.title',
  message: 'errors.link_refused.message',
};

/**
 * The pages behind Lock's mails (docs/email.md), mounted only when mail is configured:
 * `/reset` asks for a link, `/reset/<token>` sets a password, `/verify-email/<token>` confirms an
 * address. The token is in the path, read only by a POST from the page it opens; these pages send
 * no Referer (`Referrer-Policy: no-referrer`), load nothing from elsewhere and are never cached,
 * and the request log writes their paths without the token (src/http/middleware.ts). They speak
 * the browser's language (Accept-Language, then LOCK_DEFAULT_LOCALE), and so does the reset mail.
 */
export function emailRoutes(options: EmailRouteOptions): Router<LockState> {
  const router = new Router<LockState>();
  const minutes = Math.round(options.mail.resetTtlSeconds / 60);

  const pageHeaders = async (ctx: Context, next: Koa.Next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Content-Security-Policy', LOCK_CSP);
    await next();
  };
  router.use(PASSWORD_RESET_PATH, pageHeaders);
  router.use(VERIFY_EMAIL_PATH, pageHeaders);

  /** The page's locale, announced in Content-Language. */
  const localeOfPage = (ctx: Context): Locale => {
    const locale = localeFor(ctx);
    ctx.set('Content-Language', locale.language);
    return locale;
  };
  const render = (ctx: Context, html: string) => {
    ctx.type = 'html';
    ctx.body = html;
  };

  router.get(PASSWORD_RESET_PATH, (ctx) =>
    render(
      ctx,
      renderView(
        'reset-request',
        { formAction: PASSWORD_RESET_PATH, sent: false, minutes },
        localeOfPage(ctx),
      ),
    ),
  );

  router.post(PASSWORD_RESET_PATH, async (ctx) => {
    const locale = localeOfPage(ctx);
    const form = await readForm(ctx);
    const parsed = requestForm.safeParse({ identifier: form.get('identifier') ?? '' });
    if (!parsed.success) {
      ctx.status = 400;
      const error = locale.t(parsed.error.issues[0]!.message);
      return render(
        ctx,
        renderView('reset-request', { formAction: PASSWORD_RESET_PATH, sent: false, minutes, error }, locale),
      );
    }
    // Queued, never awaited: the answer and its timing are the same for every name and address.
    options.passwordReset.request(parsed.data.identifier, requestContext(ctx), locale);
    render(
      ctx,
      renderView('reset-request', { formAction: PASSWORD_RESET_PATH, sent: true, minutes }, locale),
    );
  });

  router.get(`${PASSWORD_RESET_PATH}/:token`, async (ctx) => {
    if (!(await options.passwordReset.linkUsable(ctx.params.token!))) return sendErrorPage(ctx, LINK_REFUSED);
    render(ctx, resetForm(ctx, localeOfPage(ctx)));
  });

  router.post(`${PASSWORD_RESET_PATH}/:token`, async (ctx) => {
    const locale = localeOfPage(ctx);
    const form = await readForm(ctx);
    const password = form.get('password') ?? '';
    if (password !== (form.get('confirm') ?? '')) {
      ctx.status = 400;
      return render(ctx, resetForm(ctx, locale, locale.t('reset.errors.mismatch')));
    }
    const outcome = await options.passwordReset.complete(ctx.params.token!, password, requestContext(ctx));
    if (outcome.status === 'refused') return sendErrorPage(ctx, LINK_REFUSED);
    if (outcome.status === 'weak') {
      ctx.status = 400;
      return render(ctx, resetForm(ctx, locale, policyMessage(locale, outcome.reason)));
    }
    render(
      ctx,
      renderView(
        'reset-password',
        { formAction: ctx.path, done: true, minLength: PASSWORD_MIN_LENGTH },
        locale,
      ),
    );
  });

  router.get(`${VERIFY_EMAIL_PATH}/:token`, async (ctx) => {
    if (!(await verificationLinkUsable(options.mail, ctx.params.token!)))
      return sendErrorPage(ctx, LINK_REFUSED);
    render(ctx, renderView('verify-email', { formAction: ctx.path, done: false }, localeOfPage(ctx)));
  });

  router.post(`${VERIFY_EMAIL_PATH}/:token`, async (ctx) => {
    const outcome = await confirmEmail(options.mail, ctx.params.token!, requestContext(ctx));
    if (outcome === 'refused') return sendErrorPage(ctx, LINK_REFUSED);
    render(ctx, renderView('verify-email', { formAction: ctx.path, done: true }, localeOfPage(ctx)));
  });

  return router;
}

function resetForm(ctx: Context, locale: Locale, error?: string): string {
  return renderView(
    'reset-password',
    {
      formAction: ctx.path,
      done: false,
      minLength: PASSWORD_MIN_LENGTH,
      ...(error !== undefined && { error }),
    },
    locale,
  );
}

/** The password policy's refusal (src/security/passwords.ts), in the page's words. */
function policyMessage(locale: Locale, reason: string): string {
  if (reason.includes('at least')) return locale.t('reset.errors.too_short', { min: PASSWORD_MIN_LENGTH });
  if (reason.includes('at most')) return locale.t('reset.errors.too_long', { max: PASSWORD_MAX_LENGTH });
  return locale.t('reset.errors.too_common');
}

function requestContext(ctx: Context): ResetRequestContext {
  const userAgent = ctx.get('user-agent');
  return {
    ip: ctx.ip,
    ...(userAgent !== '' && { userAgent: userAgent.slice(0, 512) }),
    requestId: ctx.state.requestId,
  };
}
