import { after } from 'node:test';
import { describeConnectorConformance } from './conformance.ts';
import { openLdap } from './directories.ts';

const directory = openLdap();
after(() => directory.close());

describeConnectorConformance({
  name: 'OpenLDAP',
  connectorId: 'corp-ldap',
  directoryUrl: directory.url,
  connectorConfig: (url) => directory.connectorConfig({ url }),
  staffMember: directory.alice,
  admin: directory.bob,
  saslNamedUser: directory.plain,
  // A ppolicy lock answers every bind with invalidCredentials: the page can say no more than that.
  disabledLoginMessage: /Incorrect username or password\./,
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
