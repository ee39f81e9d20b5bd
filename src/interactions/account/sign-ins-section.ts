// "Recent sign-ins" on /account: the account's login.* audit events (time, method, result, where
// from), for everyone — people whose organisation manages their sign-in too.
import type { SignInEvent } from '../../account/sign-ins.ts';
import type { Translate } from '../../web/i18n.ts';
import { formatTime } from './format.ts';
import type { AccountSection } from './section.ts';
import { describeUserAgent } from './sessions-section.ts';

const METHODS = 'account.sign_ins.methods';
/** login.<type> → its message; the others are named by their type. */
const METHOD_KEYS: Record<string, string> = {
  'login.password': 'password',
  'login.locked_out': 'locked_out',
  'login.totp_enrol': 'totp_enrol',
  'login.saml': 'saml',
  'login.oidc': 'oidc',
  'login.oauth2': 'oauth2',
  'login.passkey': 'passkey',
};

function methodOf(t: Translate, event: SignInEvent): string {
  if (event.type === 'login.totp')
    return t(`${METHODS}.${event.details.method === 'recovery_code' ? 'recovery_code' : 'totp'}`);
  const key = METHOD_KEYS[event.type];
  return key ? t(`${METHODS}.${key}`) : t(`${METHODS}.other`, { type: event.type.replace(/^login\./, '') });
}

export const signInsSection: AccountSection = {
  id: 'sign-ins',
  title: 'account.sign_ins.title',
  async render(ctx, kit) {
    const { t } = kit.locale(ctx);
    const events = await kit.service.recentSignIns(ctx.state.account.person);
    return kit.renderFragment(ctx, 'sign-ins', {
      signIns: events.map((event) => ({
        at: formatTime(event.at),
        method: methodOf(t, event),
        outcome: t(`account.sign_ins.outcomes.${event.outcome}`),
        from: [event.ip, event.userAgent ? describeUserAgent(t, event.userAgent) : undefined]
          .filter(Boolean)
          .join(', '),
      })),
    });
  },
  register() {},
};
