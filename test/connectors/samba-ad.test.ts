import { sambaAd } from '../helpers/directories.ts';
import { describeDirectoryConformance } from './conformance.ts';

describeDirectoryConformance(sambaAd(), {
  name: 'Active Directory (Samba)',
  connectorId: 'corp-ad',
  disabledLoginMessage: /This account is disabled\./,
});
