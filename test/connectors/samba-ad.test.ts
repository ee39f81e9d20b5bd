import { describeDirectoryConformance } from './conformance.ts';
import { sambaAd } from './directories.ts';

describeDirectoryConformance(sambaAd(), {
  name: 'Active Directory (Samba)',
  connectorId: 'corp-ad',
  disabledLoginMessage: /This account is disabled\./,
});
