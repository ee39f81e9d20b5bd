import { randomBytes } from 'node:crypto';
import {
  peerConnectorConfig,
  registerUpstreamClient,
  signInThroughUpstream,
  upstreamAdmin,
} from '../helpers/upstream-oidc.ts';
import { describeRedirectConnectorConformance } from './conformance.ts';

const person = async (groups: string[]) => {
  const username = `conf-${randomBytes(4).toString('hex')}`;
  const password = `${username}-password`;
  await upstreamAdmin.addPerson({ username, password, groups });
  return { username, password };
};

// The connector suite's redirect part against the upstream OpenID provider peer.
const staffMember = await person(['all-staff']);
const admin = await person(['admins']);
describeRedirectConnectorConformance({
  name: 'upstream OpenID provider (oidc-provider)',
  connectorId: 'upstream-oidc',
  type: 'oidc',
  connectorConfig: async () =>
    peerConnectorConfig(await registerUpstreamClient('upstream-oidc'), { refreshInterval: 0 }),
  staffMember,
  admin,
  async createPerson() {
    const created = await person([]);
    return {
      ...created,
      addToAdmins: () => upstreamAdmin.setGroups(created.username, ['admins']).then(() => {}),
      disable: () => upstreamAdmin.revoke(created.username).then(() => {}),
    };
  },
  signInUpstream: (agent, url, who) => signInThroughUpstream(agent, url, who),
});
