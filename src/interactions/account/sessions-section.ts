// "Sessions" on /account: where the person is signed in to Lock (browser, address, when), the
// current one marked; end one, or all others. A session id in a form only ever names one of the
// person's own sessions: the store matches it together with their account.
import { renderAccountFragment } from './account-views.ts';
import type { AccountSection } from './section.ts';

const formatTime = (at: Date | undefined) =>
  at ? `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC` : undefined;

/** A short name of a browser from its User-Agent: what a person recognises, not the whole string. */
export function describeUserAgent(userAgent: string | undefined): string {
  if (!userAgent) return 'Unknown browser';
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
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? userAgent.slice(0, 60);
}

export const sessionsSection: AccountSection = {
  id: 'sessions',
  title: 'Sessions',
  notices: {
    'sessions.ended': 'The session was ended.',
    'sessions.ended-others': 'Your other sessions were ended.',
    'sessions.none': 'That session had already ended.',
  },
  async render(ctx, kit) {
    const { person, session } = ctx.state.account;
    const sessions = await kit.service.listSessions(person);
    return renderAccountFragment('sessions', {
      csrfToken: kit.csrfToken(ctx),
      sessions: sessions.map((each) => ({
        id: each.uid,
        current: each.uid === session.sessionUid,
        device: describeUserAgent(each.userAgent),
        ip: each.ip,
        started: formatTime(each.firstSeenAt ?? each.loginTs) ?? 'unknown',
        lastUsed: formatTime(each.lastSeenAt),
        clients: each.clients,
      })),
    });
  },
  register(router, kit) {
    router.post('/account/sessions/end', async (ctx) => {
      const form = await kit.readCheckedForm(ctx);
      if (!form) return;
      if (!(await kit.requireRecentAuthentication(ctx, '/account#sessions'))) return;
      const uid = form.get('session') ?? '';
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(uid)) {
        ctx.status = 400;
        return kit.refuse(ctx, 400, 'No such session', 'field "session": not a session id.');
      }
      if (uid === ctx.state.account.session.sessionUid)
        return kit.refuse(ctx, 400, 'This is your current session', 'To end it, sign out.');
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
