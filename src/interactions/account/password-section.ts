// "Password" on /account: Lock's own accounts change their password (current one first, the
// password policy of src/security/passwords.ts, optionally ending their other sessions).
import { renderAccountFragment } from './account-views.ts';
import type { AccountContext, AccountKit, AccountSection } from './section.ts';

const FORM_PATH = '/account/password';

function showForm(ctx: AccountContext, kit: AccountKit, error?: string) {
  kit.renderPage(ctx, 'password-form', {
    title: `${error === undefined ? '' : 'Error: '}Change your password`,
    username: ctx.state.account.person.username,
    csrfToken: kit.csrfToken(ctx),
    error,
  });
}

/** Only Lock's own accounts have a password here; others are told who manages theirs. */
function refuseUnlessLocal(ctx: AccountContext, kit: AccountKit): boolean {
  if (ctx.state.account.person.localUserId !== undefined) return false;
  kit.refuse(
    ctx,
    403,
    'Managed by your organisation',
    'Your password is managed by your organisation, not here.',
  );
  return true;
}

export const passwordSection: AccountSection = {
  id: 'password',
  title: 'Password',
  shows: (person) => person.localUserId !== undefined,
  notices: {
    'password.changed': 'Your password was changed.',
    'password.changed-ended': 'Your password was changed, and your other sessions were ended.',
  },
  render: async () => renderAccountFragment('password', {}),
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
      const refuse = (status: number, message: string) => {
        ctx.status = status;
        showForm(ctx, kit, message);
      };
      if (current === '' || current.length > 1024) return refuse(400, 'Enter your current password.');
      if (next === '' || next.length > 4096) return refuse(400, 'Enter a new password.');
      if (next !== (form.get('confirm_password') ?? ''))
        return refuse(400, 'The new passwords do not match.');
      const { person, session } = ctx.state.account;
      const outcome = await kit.service.changePassword(person, kit.request(ctx), {
        current,
        next,
        endOtherSessions: form.get('end_other_sessions') === 'yes',
        currentSessionUid: session.sessionUid,
      });
      switch (outcome.status) {
        case 'wrong-current':
          return refuse(400, 'Your current password is not right.');
        case 'locked-out':
          return refuse(429, 'Too many attempts. Wait a few minutes and try again.');
        case 'refused':
          return refuse(400, `The new password cannot be used: ${outcome.reason}.`);
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
