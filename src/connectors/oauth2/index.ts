import { type ConnectorTypeModule, loadedOnDemand } from '../connector.ts';
import { SSO_CALLBACK_ROUTE } from '../federation/callback-route.ts';
import { oauth2ConfigSchema } from './config.ts';

/** Sign-in through a plain OAuth 2.0 provider (no ID token): GitHub, GitLab, … */
export const oauth2 = {
  type: 'oauth2',
  configSchema: oauth2ConfigSchema,
  ...loadedOnDemand(
    'oauth2',
    () => import('./oauth2-connector.ts'),
    ({ OAuth2Connector }, options) => new OAuth2Connector(options),
  ),
  // The client secret is only ever sent to the token endpoint it was saved for.
  upstreamSecrets: {
    target: ['authorizationUrl', 'tokenUrl', 'userinfoUrl', 'groupsUrl', 'clientId'],
    secrets: ['clientSecret'],
  },
  // Lock's tokens say the email was verified (`email_verified`, scope email) where trustEmail vouches for it.
  claimNames: () => ['email_verified'],
  redirect: { callbackRoute: SSO_CALLBACK_ROUTE },
} satisfies ConnectorTypeModule<'oauth2', typeof oauth2ConfigSchema>;
