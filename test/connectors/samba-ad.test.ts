import { after } from 'node:test';
import { describeConnectorConformance } from './conformance.ts';
import { sambaAd } from './directories.ts';

const directory = sambaAd();
after(() => directory.close());

describeConnectorConformance({
  name: 'Active Directory (Samba)',
  connectorId: 'corp-ad',
  directoryUrl: directory.url,
  connectorConfig: (url) => directory.connectorConfig({ url }),
  staffMember: directory.alice,
  admin: directory.bob,
  saslNamedUser: directory.plain,
  disabledLoginMessage: /This account is disabled\./,
  async createUser() {
    const user = await directory.createUser();
    return {
      ...user,
      addToAdmins: () => directory.addToGroup(user, 'admins'),
      disable: () => directory.disable(user),
      remove: () => directory.deleteUser(user),
    };
  },
});
