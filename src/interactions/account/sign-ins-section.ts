// "Recent sign-ins" on /account: the account's login.* audit events (time, method, result, where
// from), for everyone — people whose organisation manages their sign-in too.
import type { SignInEvent } from '../../account/sign-ins.ts';
import { renderAccountFragment } from './account-views.ts';
import { formatTime } from './format.ts';
import type { AccountSection } from './section.ts';
import { describeUserAgent } from './sessions-section.ts';

const METHODS: Record<string, string> = {
  'login.password': 'Password',
  'login.locked_out': 'Password (locked out)',
  'login.totp_enrol': 'Set up two-step sign-in',
  'login.saml': 'SAML single sign-on',
  'login.oidc': 'OpenID Connect single sign-on',
  'login.oauth2': 'OAuth 2.0 single sign-on',
};

function methodOf(event: SignInEvent): string {
  if (event.type === 'login.totp')
    return event.details.method === 'recovery_code' ? 'Recovery code' : 'Authenticator code';
  return METHODS[event.type] ?? event.type.replace(/^login\./, '').replaceAll('_', ' ');
}

const OUTCOMES = {
  success: 'Succeeded',
  failure: 'Refused',
  error: 'Failed (Lock could not check)',
} as const;

export const signInsSection: AccountSection = {
  id: 'sign-ins',
  title: 'Recent sign-ins',
  async render(ctx, kit) {
    const events = await kit.service.recentSignIns(ctx.state.account.person);
    return renderAccountFragment('sign-ins', {
      signIns: events.map((event) => ({
        at: formatTime(event.at),
        method: methodOf(event),
        outcome: OUTCOMES[event.outcome],
        from: [event.ip, event.userAgent ? describeUserAgent(event.userAgent) : undefined]
          .filter(Boolean)
          .join(', '),
      })),
    });
  },
  register() {},
};
