// "Password" on /account: Lock's own accounts change their password (current one first, the
// password policy of src/security/passwords.ts, optionally ending their other sessions).
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../security/passwords.ts';
import type { MessageValues } from '../../web/i18n.ts';
import type { AccountContext, AccountKit, AccountSection } from './section.ts';

const FORM_PATH = '/account/password';
const ERRORS = 'account.password.errors';

function showForm(ctx: AccountContext, kit: AccountKit, error?: { key: string; values?: MessageValues }) {
  kit.renderPage(ctx, 'password-form', {
    title: 'account.password.form_title',
    username: ctx.state.account.person.username,
    csrfToken: kit.csrfToken(ctx),
    error: error && kit.locale(ctx).t(error.key, error.values),
  });
}

/** Only Lock's own accounts have a password here; others are told who manages theirs. */
export function refuseUnlessLocal(ctx: AccountContext, kit: AccountKit): boolean {
  if (ctx.state.account.person.localUserId !== undefined) return false;
  kit.refuse(ctx, 403, 'account.errors.managed.title', 'account.errors.managed.message');
  return true;
}

/** The policy's reason (src/security/passwords.ts, English for the admin API) as a message a person reads. */
function policyMessage(reason: string): { key: string; values?: MessageValues } {
  if (reason.includes('at least'))
    return { key: `${ERRORS}.too_short`, values: { min: PASSWORD_MIN_LENGTH } };
  if (reason.includes('at most')) return { key: `${ERRORS}.too_long`, values: { max: PASSWORD_MAX_LENGTH } };
  if (reason.includes('commonly used')) return { key: `${ERRORS}.common` };
  if (reason.includes('repeated') || reason.includes('sequence')) return { key: `${ERRORS}.run` };
  return { key: `${ERRORS}.invalid` };
}

export const passwordSection: AccountSection = {
  id: 'password',
  title: 'account.password.title',
  shows: (person) => person.localUserId !== undefined,
  notices: {
    'password.changed': 'account.password.notices.changed',
    'password.changed-ended': 'account.password.notices.changed_ended',
  },
  render: async (ctx, kit) => kit.renderFragment(ctx, 'password', {}),
  register(router, kit) {
    router.get(FORM_PATH, async (ctx) => {
      if (refuseUnlessLocal(ctx, kit)) return;
      if (!(await kit.requireRecentAuthentication(ctx, FORM_PATH))) return;
      showForm(ctx, kit);
    });

    router.post(FORM_PATH, async (ctx) => {
      if (refuseUnlessLocal(ctx, kit)) return;
      const form = await kit.readCheckedForm(ctx);
      if (!form) return;
      if (!(await kit.requireRecentAuthentication(ctx, FORM_PATH))) return;
      const current = form.get('current_password') ?? '';
      const next = form.get('new_password') ?? '';
      const refuse = (status: number, error: { key: string; values?: MessageValues }) => {
        ctx.status = status;
        showForm(ctx, kit, error);
      };
      if (current === '' || current.length > 4 * PASSWORD_MAX_LENGTH)
        return refuse(400, { key: `${ERRORS}.current_missing` });
      if (next === '') return refuse(400, { key: `${ERRORS}.new_missing` });
      if (next.length > 4 * PASSWORD_MAX_LENGTH) return refuse(400, policyMessage('at most'));
      if (next !== (form.get('confirm_password') ?? '')) return refuse(400, { key: `${ERRORS}.mismatch` });
      const { person, session } = ctx.state.account;
      const outcome = await kit.service.changePassword(person, kit.request(ctx), {
        current,
        next,
        endOtherSessions: form.get('end_other_sessions') === 'yes',
        currentSessionUid: session.sessionUid,
      });
      switch (outcome.status) {
        case 'wrong-current':
          return refuse(400, { key: `${ERRORS}.wrong_current` });
        case 'locked-out':
          return refuse(429, { key: `${ERRORS}.locked_out` });
        case 'refused':
          return refuse(400, policyMessage(outcome.reason));
        case 'not-local':
          return refuseUnlessLocal(ctx, kit);
        case 'changed':
          return kit.done(
            ctx,
            outcome.endedSessions > 0 ? 'password.changed-ended' : 'password.changed',
            'password',
          );
      }
    });
  },
};
