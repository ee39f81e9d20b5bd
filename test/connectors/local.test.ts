import { hashPassword } from '../../src/security/passwords.ts';
import { createUser, deleteUser, setUserDisabled, setUserGroups } from '../../src/store/users.ts';
import { describeConnectorConformance } from './conformance.ts';
import { LOCAL_ADMIN, LOCAL_PLAIN, LOCAL_USER } from './lock-flow.ts';

describeConnectorConformance({
  name: 'Lock accounts (local)',
  connectorId: 'local',
  staffMember: LOCAL_USER,
  admin: LOCAL_ADMIN,
  saslNamedUser: LOCAL_PLAIN,
  disabledLoginMessage: /This account is disabled\./,
  async createUser(rp) {
    const db = rp.lock.database.pool;
    const username = `conf-${Date.now().toString(36)}`;
    const password = `${username} password`;
    const user = await createUser(db, { username, passwordHash: await hashPassword(password) });
    return {
      username,
      password,
      addToAdmins: () => setUserGroups(db, user.id, ['admins']),
      disable: async () => {
        await setUserDisabled(db, user.id, true);
      },
      remove: async () => {
        await deleteUser(db, user.id);
      },
    };
  },
});
