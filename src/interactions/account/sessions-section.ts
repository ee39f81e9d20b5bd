// "Sessions" on /account: where the person is signed in to Lock (browser, address, when), the
// current one marked; end one, or all others. A session id in a form only ever names one of the
// person's own sessions: the store matches it together with their account.
import type { Translate } from '../../web/i18n.ts';
import { formatTime } from './format.ts';
import type { AccountSection } from './section.ts';

/** A short name of a browser from its User-Agent: what a person recognises, not the whole string. */
export function describeUserAgent(t: Translate, userAgent: string | undefined): string {
  if (!userAgent) return t('account.sessions.unknown_device');
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /(Chrome|Chromium|HeadlessChrome)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : undefined;
  const system = /Windows/.test(userAgent)
    ? 'Windows'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Mac OS X/.test(userAgent)
        ? 'macOS'
        : /Android/.test(userAgent)
          ? 'Android'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : undefined;
  if (browser && system) return t('account.sessions.device', { browser, system });
  return browser ?? system ?? userAgent.slice(0, 60);
}

/** A session id as oidc-provider makes them (nanoid); anything else names none. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const sessionsSection: AccountSection = {
  id: 'sessions',
  title: 'account.sessions.title',
  notices: {
    'sessions.ended': 'account.sessions.notices.ended',
    'sessions.ended-others': 'account.sessions.notices.ended_others',
    'sessions.none': 'account.sessions.notices.none',
  },
  async render(ctx, kit) {
    const { person, session } = ctx.state.account;
    const { t } = kit.locale(ctx);
    const sessions = await kit.service.listSessions(person);
    return kit.renderFragment(ctx, 'sessions', {
      csrfToken: kit.csrfToken(ctx),
      sessions: sessions.map((each) => {
        const started = formatTime(each.firstSeenAt ?? each.loginTs);
        const lastUsed = formatTime(each.lastSeenAt);
        return {
          id: each.uid,
          current: each.uid === session.sessionUid,
          device: describeUserAgent(t, each.userAgent),
          details: [
            ...(each.ip ? [t('account.sessions.from', { ip: each.ip })] : []),
            started
              ? t('account.sessions.started', { time: started })
              : t('account.sessions.started_unknown'),
            ...(lastUsed ? [t('account.sessions.last_used', { time: lastUsed })] : []),
            ...(each.clients.length > 0
              ? [
                  t('account.sessions.signed_in_to', {
                    clients: each.clients.map(kit.service.clientName).join(', '),
                  }),
                ]
              : []),
          ],
        };
      }),
    });
  },
  register(router, kit) {
    router.post('/account/sessions/end', async (ctx) => {
      const form = await kit.readCheckedForm(ctx);
      if (!form) return;
      if (!(await kit.requireRecentAuthentication(ctx, '/account#sessions'))) return;
      const uid = form.get('session') ?? '';
      if (!SESSION_ID.test(uid))
        return kit.refuse(
          ctx,
          400,
          'account.errors.no_such_session.title',
          'account.errors.no_such_session.message',
        );
      if (uid === ctx.state.account.session.sessionUid)
        return kit.refuse(
          ctx,
          400,
          'account.errors.current_session.title',
          'account.errors.current_session.message',
        );
      const ended = await kit.service.endSessions(ctx.state.account.person, kit.request(ctx), { only: uid });
      kit.done(ctx, ended > 0 ? 'sessions.ended' : 'sessions.none', 'sessions');
    });

    router.post('/account/sessions/end-others', async (ctx) => {
      const form = await kit.readCheckedForm(ctx);
      if (!form) return;
      if (!(await kit.requireRecentAuthentication(ctx, '/account#sessions'))) return;
      await kit.service.endSessions(ctx.state.account.person, kit.request(ctx), {
        except: ctx.state.account.session.sessionUid,
      });
      kit.done(ctx, 'sessions.ended-others', 'sessions');
    });
  },
};
