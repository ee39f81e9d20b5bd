import { after, before } from 'node:test';
import { GitHubLike } from '../helpers/github-like.ts';
import { describeRedirectConformance } from './conformance.ts';
import { answerUpstream } from './upstream-flow.ts';

// The conformance suite against the oauth2 type and a GitHub-like server, twice: an upstream that
// issues refresh tokens (Lock refreshes with them) and one that does not (Lock keeps the access token).
for (const refreshTokens of [false, true]) {
  let github: GitHubLike;
  let added = 0;
  before(async () => {
    github = await GitHubLike.start({
      refreshTokens,
      users: [
        { id: 1, login: 'staff-member', orgs: ['all-staff', 'other-org'] },
        { id: 2, login: 'an-admin', orgs: ['admins'] },
      ],
    });
  });
  after(() => github?.close());

  describeRedirectConformance({
    name: `oauth2 (GitHub-like, ${refreshTokens ? 'with' : 'without'} refresh tokens)`,
    type: 'oauth2',
    connectorId: 'github',
    connectorConfig: (refreshInterval) => github.connectorConfig({ refreshInterval, timeoutSeconds: 1 }),
    register: (redirectUri) => github.redirectUris.add(redirectUri),
    staffMember: 'staff-member',
    admin: 'an-admin',
    answer: (upstreamUrl, user) => {
      github.signedIn = user;
      return answerUpstream(upstreamUrl);
    },
    async createUser() {
      const user = `new-user-${++added}`;
      github.users.set(user, { id: 100 + added, login: user, orgs: [] });
      return {
        user,
        addToAdmins: async () => github.setOrgs(user, ['admins']),
        cutOff: async () => github.revokeTokensOf(user),
      };
    },
    async outage() {
      github.delayMs = 30_000;
      return async () => {
        github.delayMs = 0;
      };
    },
  });
}
