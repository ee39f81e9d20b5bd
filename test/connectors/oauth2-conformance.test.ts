import { after } from 'node:test';
import { GitHubLike } from '../helpers/github-like.ts';
import { describeRedirectConnectorConformance } from './conformance.ts';
import { answerUpstream } from './upstream-flow.ts';

// The connector suite's redirect part against the oauth2 type and a GitHub-like server, twice: an
// upstream that issues refresh tokens (Lock refreshes with them, they rotate) and one that does not
// (Lock keeps the access token and reads the user with it).
for (const refreshTokens of [false, true]) {
  const github = await GitHubLike.start({
    refreshTokens,
    // The suite's Lock picks its port when it starts: its github callback, whatever the port.
    redirectUriPattern: /^http:\/\/127\.0\.0\.1:\d+\/sso\/github\/callback$/,
    users: [
      { id: 1, login: 'staff-member', orgs: ['all-staff', 'other-org'] },
      { id: 2, login: 'an-admin', orgs: ['admins'] },
    ],
  });
  after(() => github.close());
  let added = 0;

  describeRedirectConnectorConformance({
    name: `oauth2, GitHub-like, ${refreshTokens ? 'with' : 'without'} upstream refresh tokens`,
    connectorId: 'github',
    type: 'oauth2',
    connectorConfig: async () => github.connectorConfig({ refreshInterval: 0, timeoutSeconds: 1 }),
    staffMember: { username: 'staff-member', password: '' },
    admin: { username: 'an-admin', password: '' },
    async createPerson() {
      const username = `new-person-${++added}`;
      github.users.set(username, { id: 100 + added, login: username, orgs: [] });
      return {
        username,
        password: '',
        addToAdmins: async () => github.setOrgs(username, ['admins']),
        disable: async () => github.revokeTokensOf(username),
      };
    },
    // The upstream approves whom it is told to; the browser goes there and back to Lock and the client.
    async signInUpstream(agent, authorizationUrl, person) {
      github.signedIn = person.username;
      const toUpstream = await agent.follow(authorizationUrl);
      if (!toUpstream.left)
        return { status: toUpstream.response.status, html: await toUpstream.response.text() };
      const callback = await answerUpstream(toUpstream.left);
      const back = await agent.follow(callback.toString());
      return back.left
        ? { landed: back.left, status: back.response.status, html: '' }
        : { status: back.response.status, html: await back.response.text() };
    },
    async outage() {
      github.delayMs = 30_000;
      return async () => {
        github.delayMs = 0;
      };
    },
  });
}
