// "Two-step sign-in" on /account: Lock's own accounts set up an authenticator app (TOTP, QR code
// as at the sign-in's enrolment), turn it off, or replace their recovery codes.
import type { AccountPerson } from '../../account/account-context.ts';
import type { TotpEnrolment } from '../../account/second-factor.ts';
import { qrCodeDataUri } from '../../web/qr-code.ts';
import { formatTime } from './format.ts';
import type { AccountContext, AccountKit, AccountSection } from './section.ts';

const ENROL_PATH = '/account/two-step/enrol';
const OVERVIEW = '/account#two-step';

type LocalPerson = AccountPerson & { localUserId: string };

/** Lock's own account, or undefined (and a refusal) for someone whose organisation manages it. */
function localPerson(ctx: AccountContext, kit: AccountKit): LocalPerson | undefined {
  const { person } = ctx.state.account;
  if (person.localUserId !== undefined) return person as LocalPerson;
  kit.refuse(ctx, 403, 'account.errors.managed.title', 'account.errors.managed.message');
  return undefined;
}

async function showEnrolment(ctx: AccountContext, kit: AccountKit, enrolment: TotpEnrolment, error?: string) {
  kit.renderPage(ctx, 'two-step-enrol', {
    title: 'account.two_step.set_up',
    username: ctx.state.account.person.username,
    qrCode: await qrCodeDataUri(enrolment.otpauthUri),
    // Groups of four are easier to type into an app by hand; apps ignore the spaces.
    secretGroups: enrolment.secret.match(/.{1,4}/g) ?? [],
    enrolment: enrolment.sealed,
    csrfToken: kit.csrfToken(ctx),
    error: error && kit.locale(ctx).t(error),
  });
}

function showRecoveryCodes(ctx: AccountContext, kit: AccountKit, codes: string[], replaced: boolean) {
  kit.renderPage(ctx, 'recovery-codes', {
    title: 'account.two_step.codes_title',
    codes,
    replaced,
  });
}

export const twoStepSection: AccountSection = {
  id: 'two-step',
  title: 'account.two_step.title',
  shows: (person) => person.localUserId !== undefined,
  notices: {
    'two-step.removed': 'account.two_step.notices.removed',
    'two-step.none': 'account.two_step.notices.none',
    'two-step.already': 'account.two_step.notices.already',
  },
  async render(ctx, kit) {
    const person = ctx.state.account.person as LocalPerson;
    const status = await kit.service.secondFactor.status(person.localUserId);
    return kit.renderFragment(ctx, 'two-step', {
      enrolled: status.enrolled,
      since: formatTime(status.since),
      recoveryCodesLeft: status.recoveryCodesLeft,
      csrfToken: kit.csrfToken(ctx),
    });
  },
  register(router, kit) {
    router.get(ENROL_PATH, async (ctx) => {
      const person = localPerson(ctx, kit);
      if (!person) return;
      if (!(await kit.requireRecentAuthentication(ctx, ENROL_PATH))) return;
      if ((await kit.service.secondFactor.status(person.localUserId)).enrolled)
        return kit.done(ctx, 'two-step.already', 'two-step');
      await showEnrolment(ctx, kit, kit.service.secondFactor.startEnrolment(person));
    });

    router.post(ENROL_PATH, async (ctx) => {
      const person = localPerson(ctx, kit);
      if (!person) return;
      const form = await kit.readCheckedForm(ctx);
      if (!form) return;
      if (!(await kit.requireRecentAuthentication(ctx, ENROL_PATH))) return;
      const sealed = (form.get('enrolment') ?? '').slice(0, 2048);
      const code = (form.get('code') ?? '').trim().slice(0, 64);
      const outcome = await kit.service.secondFactor.confirmEnrolment(person, kit.request(ctx), sealed, code);
      switch (outcome.status) {
        case 'enrolled':
          return showRecoveryCodes(ctx, kit, outcome.recoveryCodes, false);
        case 'already-enrolled':
          return kit.done(ctx, 'two-step.already', 'two-step');
        case 'expired':
          ctx.status = 303;
          return ctx.redirect(ENROL_PATH);
        case 'wrong-code': {
          const again = kit.service.secondFactor.reopen(person, sealed);
          if (!again) {
            ctx.status = 303;
            return ctx.redirect(ENROL_PATH);
          }
          ctx.status = 400;
          return showEnrolment(ctx, kit, again, 'account.two_step.errors.wrong_code');
        }
      }
    });

    router.post('/account/two-step/remove', async (ctx) => {
      const person = localPerson(ctx, kit);
      if (!person) return;
      const form = await kit.readCheckedForm(ctx);
      if (!form) return;
      if (!(await kit.requireRecentAuthentication(ctx, OVERVIEW))) return;
      const removed = await kit.service.removeTotp(person, kit.request(ctx));
      kit.done(ctx, removed ? 'two-step.removed' : 'two-step.none', 'two-step');
    });

    router.post('/account/two-step/recovery-codes', async (ctx) => {
      const person = localPerson(ctx, kit);
      if (!person) return;
      const form = await kit.readCheckedForm(ctx);
      if (!form) return;
      if (!(await kit.requireRecentAuthentication(ctx, OVERVIEW))) return;
      const codes = await kit.service.secondFactor.regenerateRecoveryCodes(person, kit.request(ctx));
      if (!codes) return kit.done(ctx, 'two-step.none', 'two-step');
      showRecoveryCodes(ctx, kit, codes, true);
    });
  },
};
