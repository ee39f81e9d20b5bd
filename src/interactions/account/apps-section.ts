// "Apps with access" on /account: the applications holding access to the person's account — what
// each may see and do, on which APIs, since when — and "Remove access". A client id in the form only
// ever names the person's own access: the store matches it together with their account.
import { describeScope } from '../views.ts';
import { formatTime } from './format.ts';
import type { AccountSection } from './section.ts';

/** A client id as a form may carry one: printable, bounded (anything else names no access). */
const CLIENT_ID = /^[\x21-\x7e]{1,256}$/;

export const appsSection: AccountSection = {
  id: 'apps',
  title: 'account.apps.title',
  notices: {
    'apps.removed': 'account.apps.notices.removed',
    'apps.none': 'account.apps.notices.none',
  },
  async render(ctx, kit) {
    const { t } = kit.locale(ctx);
    const apps = await kit.service.appsWithAccess(ctx.state.account.person);
    return kit.renderFragment(ctx, 'apps', {
      csrfToken: kit.csrfToken(ctx),
      apps: apps.map((app) => ({
        clientId: app.clientId,
        name: kit.service.clientName(app.clientId),
        permissions: app.openidScopes.map((scope) => describeScope(t, scope).label),
        apis: app.apis.map((api) =>
          api.scopes.length > 0 ? `${api.indicator} (${api.scopes.join(', ')})` : api.indicator,
        ),
        since: t('account.apps.since', { time: formatTime(app.since) ?? '' }),
      })),
    });
  },
  register(router, kit) {
    router.post('/account/apps/remove', async (ctx) => {
      const form = await kit.readCheckedForm(ctx);
      if (!form) return;
      if (!(await kit.requireRecentAuthentication(ctx, '/account#apps'))) return;
      const clientId = form.get('client') ?? '';
      if (!CLIENT_ID.test(clientId))
        return kit.refuse(ctx, 400, 'account.errors.no_such_app.title', 'account.errors.no_such_app.message');
      const removed = await kit.service.removeAppAccess(ctx.state.account.person, kit.request(ctx), clientId);
      kit.done(ctx, removed ? 'apps.removed' : 'apps.none', 'apps');
    });
  },
};
