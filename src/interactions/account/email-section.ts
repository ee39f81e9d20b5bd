// "Email" on /account (docs/email.md): Lock's own accounts see their address and whether it is
// confirmed, send the confirmation mail again, and change the address. A new address replaces the
// old one only once it is confirmed from its own mailbox (a `change_email` link): until then the
// account keeps its address, its verified state and its security notices. Shown only when mail is
// configured.
import { z } from 'zod';
import { accountAudit } from '../../account/account-context.ts';
import { recordAuditEvent } from '../../audit/audit.ts';
import { sendEmailVerification } from '../../mail/email-verification.ts';
import type { Mail } from '../../mail/mail.ts';
import { countRecentEmailLinks } from '../../store/email-links.ts';
import { findUserById } from '../../store/users.ts';
import type { AccountContext, AccountKit, AccountSection } from './section.ts';

const FORM_PATH = '/account/email';
const RESEND_PATH = '/account/email/resend';

const newAddress = z.email().max(254);

/** The section, given the mail features (it exists only when they are on). */
export function emailSection(mail: Mail): AccountSection {
  /** The person's users row (Lock's own accounts only). */
  const userOf = async (ctx: AccountContext) => {
    const id = ctx.state.account.person.localUserId;
    return id === undefined ? undefined : findUserById(mail.pool, id);
  };

  const showForm = (ctx: AccountContext, kit: AccountKit, error?: string, value = '') => {
    kit.renderPage(ctx, 'email-form', {
      title: 'account_email.change_title',
      csrfToken: kit.csrfToken(ctx),
      value,
      error,
    });
  };

  /** Confirmation mails one account may ask for per hour (each kind counted alike). */
  const overLimit = async (userId: string) =>
    (await countRecentEmailLinks(
      mail.pool,
      userId,
      'change_email',
      new Date(mail.now().getTime() - 3_600_000),
    )) +
      (await countRecentEmailLinks(
        mail.pool,
        userId,
        'verify_email',
        new Date(mail.now().getTime() - 3_600_000),
      )) >=
    mail.resetMailsPerHour;

  return {
    id: 'email',
    title: 'account_email.title',
    shows: (person) => person.localUserId !== undefined,
    notices: {
      'email.sent':
        'We mailed a confirmation link to the new address. Your address changes when you open it.',
      'email.resent': 'We mailed the confirmation link again.',
      'email.limited': 'Too many confirmation mails this hour: try again later.',
    },
    async render(ctx, kit) {
      const user = await userOf(ctx);
      return kit.renderFragment(ctx, 'email', {
        email: user?.email,
        verified: user?.emailVerified === true,
        csrfToken: kit.csrfToken(ctx),
      });
    },
    register(router, kit) {
      router.get(FORM_PATH, async (ctx) => {
        if (!(await userOf(ctx)))
          return kit.refuse(ctx, 404, 'errors.generic.title', 'errors.generic.message');
        if (!(await kit.requireRecentAuthentication(ctx, FORM_PATH))) return;
        showForm(ctx, kit);
      });

      router.post(FORM_PATH, async (ctx) => {
        const user = await userOf(ctx);
        if (!user) return kit.refuse(ctx, 404, 'errors.generic.title', 'errors.generic.message');
        const form = await kit.readCheckedForm(ctx);
        if (!form) return;
        if (!(await kit.requireRecentAuthentication(ctx, FORM_PATH))) return;
        const { t } = kit.locale(ctx);
        const typed = (form.get('email') ?? '').trim();
        const parsed = newAddress.safeParse(typed);
        if (!parsed.success) {
          ctx.status = 400;
          return showForm(ctx, kit, t('account_email.errors.invalid'), typed);
        }
        if (parsed.data.toLowerCase() === user.email?.toLowerCase()) {
          ctx.status = 400;
          return showForm(ctx, kit, t('account_email.errors.same'), typed);
        }
        if (await overLimit(user.id)) return kit.done(ctx, 'email.limited', 'email');
        const { person } = ctx.state.account;
        await recordAuditEvent(mail.pool, {
          ...accountAudit(person, kit.request(ctx)),
          type: 'account.email.change_requested',
          outcome: 'success',
          details: { id: user.id },
        });
        await sendEmailVerification(mail, user, parsed.data, { change: true, actor: person.sub });
        kit.done(ctx, 'email.sent', 'email');
      });

      router.post(RESEND_PATH, async (ctx) => {
        const user = await userOf(ctx);
        if (!user?.email || user.emailVerified)
          return kit.refuse(ctx, 409, 'errors.generic.title', 'errors.generic.message');
        const form = await kit.readCheckedForm(ctx);
        if (!form) return;
        if (!(await kit.requireRecentAuthentication(ctx, '/account'))) return;
        if (await overLimit(user.id)) return kit.done(ctx, 'email.limited', 'email');
        await sendEmailVerification(mail, user, user.email, { actor: ctx.state.account.person.sub });
        kit.done(ctx, 'email.resent', 'email');
      });
    },
  };
}
