import { openLdap } from '../helpers/directories.ts';
import { describeDirectoryConformance } from './conformance.ts';

describeDirectoryConformance(openLdap(), {
  name: 'OpenLDAP',
  connectorId: 'corp-ldap',
  // A ppolicy lock answers every bind with invalidCredentials: the page can say no more than that.
  disabledLoginMessage: /Incorrect username or password\./,
});
