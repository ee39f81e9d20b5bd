// "Passkeys" on /account (docs/passkeys.md): Lock's own accounts register passkeys (each with a
// name), rename and remove them. Every change needs a recent authentication; registration is a
// WebAuthn ceremony driven by views/assets/passkey-register.js through two JSON calls, its
// challenge bound to this page session. The checks and the audit are the library's
// (src/login/passkey-registration.ts).
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { PasskeyOwner, PasskeyRegistration } from '../../login/passkey-registration.ts';
import { readJson } from '../../web/json-body.ts';
import { contentSecurityPolicy, PASSKEY_SCRIPTS } from '../views.ts';
import { formatTime } from './format.ts';
import { refuseUnlessLocal } from './password-section.ts';
import type { AccountContext, AccountKit, AccountSection } from './section.ts';

const ADD_PATH = '/account/passkeys/add';
const BACK = '/account#passkeys';
/** The browser side of registration: @simplewebauthn/browser's bundle, then Lock's own script. */
const REGISTER_SCRIPTS = [PASSKEY_SCRIPTS[0], '/assets/passkey-register.js'];

const call = z.object({
  csrf: z.string().max(256),
  name: z.unknown().optional(),
  response: z.unknown().optional(),
});

/** The owner of the passkeys: the signed-in local account, in this page session. Undefined for others. */
function ownerOf(ctx: AccountContext, kit: AccountKit): PasskeyOwner | undefined {
  const { person, session } = ctx.state.account;
  if (person.localUserId === undefined) return undefined;
  return {
    userId: person.localUserId,
    username: person.username,
    sub: person.sub,
    session: session.idHash,
    ...kit.request(ctx),
  };
}

/** The page's CSRF token, compared in constant time (the JSON calls carry it in their body). */
function csrfMatches(ctx: AccountContext, kit: AccountKit, presented: string): boolean {
  const expected = Buffer.from(kit.csrfToken(ctx));
  const actual = Buffer.from(presented);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function json(ctx: AccountContext, status: number, body: object) {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = body;
}

export function passkeysSection(registration: PasskeyRegistration): AccountSection {
  /** A JSON call of the add page: the page session's CSRF token and a recent authentication, or an answer. */
  async function acceptCall(ctx: AccountContext, kit: AccountKit) {
    const owner = ownerOf(ctx, kit);
    const parsed = call.safeParse(await readJson(ctx));
    const { t } = kit.locale(ctx);
    if (!owner) return json(ctx, 403, { message: t('account.errors.managed.message') });
    if (!parsed.success || !csrfMatches(ctx, kit, parsed.data.csrf))
      return json(ctx, 403, { message: t('account.errors.form_expired.message') });
    // The add page asked for a recent sign-in; if it has aged since, sign in again from that page.
    if (!kit.service.pageSessions.isRecent(ctx.state.account.session))
      return json(ctx, 401, { message: t('account.passkeys.errors.sign_in_again'), location: ADD_PATH });
    return { owner, body: parsed.data };
  }

  return {
    id: 'passkeys',
    title: 'account.passkeys.title',
    shows: (person) => person.localUserId !== undefined,
    notices: {
      'passkeys.added': 'account.passkeys.notices.added',
      'passkeys.renamed': 'account.passkeys.notices.renamed',
      'passkeys.removed': 'account.passkeys.notices.removed',
      'passkeys.none': 'account.passkeys.notices.none',
      'passkeys.bad-name': 'account.passkeys.notices.bad_name',
    },
    async render(ctx, kit) {
      const { person } = ctx.state.account;
      const passkeys = person.localUserId === undefined ? [] : await registration.list(person.localUserId);
      return kit.renderFragment(ctx, 'passkeys', {
        csrfToken: kit.csrfToken(ctx),
        addHref: ADD_PATH,
        passkeys: passkeys.map((passkey) => ({
          id: passkey.id,
          name: passkey.name,
          synced: passkey.backupEligible,
          created: formatTime(passkey.createdAt),
          lastUsed: formatTime(passkey.lastUsedAt),
        })),
      });
    },
    register(router, kit) {
      router.get(ADD_PATH, async (ctx) => {
        if (refuseUnlessLocal(ctx, kit)) return;
        if (!(await kit.requireRecentAuthentication(ctx, ADD_PATH))) return;
        kit.renderPage(ctx, 'passkey-add', {
          title: 'account.passkeys.add_title',
          csrfToken: kit.csrfToken(ctx),
          optionsUrl: '/account/passkeys/options',
          registerUrl: '/account/passkeys/register',
          scripts: REGISTER_SCRIPTS,
          back: BACK,
        });
        // The one /account page that runs a script: Lock's own, from /assets; calls only to Lock.
        ctx.set('Content-Security-Policy', contentSecurityPolicy([], { scripts: true }));
      });

      router.post('/account/passkeys/options', async (ctx) => {
        const accepted = await acceptCall(ctx, kit);
        if (!accepted) return;
        json(ctx, 200, await registration.options(accepted.owner));
      });

      router.post('/account/passkeys/register', async (ctx) => {
        const accepted = await acceptCall(ctx, kit);
        if (!accepted) return;
        const outcome = await registration.register(accepted.owner, {
          name: accepted.body.name,
          response: accepted.body.response,
        });
        switch (outcome.status) {
          case 'invalid':
            return json(ctx, 400, { message: outcome.message });
          case 'refused':
            return json(ctx, 400, { message: kit.locale(ctx).t(outcome.message) });
          case 'added':
            return json(ctx, 200, { location: '/account?done=passkeys.added#passkeys' });
        }
      });

      router.post('/account/passkeys/rename', async (ctx) => {
        const form = await kit.readCheckedForm(ctx);
        if (!form) return;
        const owner = ownerOf(ctx, kit);
        if (!owner) return refuseUnlessLocal(ctx, kit);
        if (!(await kit.requireRecentAuthentication(ctx, BACK))) return;
        const renamed = await registration.rename(owner, form.get('passkey') ?? '', form.get('name'));
        kit.done(ctx, renamed ? 'passkeys.renamed' : 'passkeys.bad-name', 'passkeys');
      });

      router.post('/account/passkeys/remove', async (ctx) => {
        const form = await kit.readCheckedForm(ctx);
        if (!form) return;
        const owner = ownerOf(ctx, kit);
        if (!owner) return refuseUnlessLocal(ctx, kit);
        if (!(await kit.requireRecentAuthentication(ctx, BACK))) return;
        const removed = await registration.remove(owner, form.get('passkey') ?? '');
        kit.done(ctx, removed ? 'passkeys.removed' : 'passkeys.none', 'passkeys');
      });
    },
  };
}

/** The account page's sections with "Passkeys" after the other sign-in methods (password, two-step sign-in). */
export function withPasskeysSection(
  sections: AccountSection[],
  registration: PasskeyRegistration,
): AccountSection[] {
  const methods = ['password', 'two-step'];
  const at = sections.reduce((last, section, index) => (methods.includes(section.id) ? index + 1 : last), 0);
  return [...sections.slice(0, at), passkeysSection(registration), ...sections.slice(at)];
}
