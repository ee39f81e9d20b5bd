import { type ConnectorTypeModule, loadedImplementation } from '../connector.ts';
import { SSO_CALLBACK_ROUTE } from '../federation/callback-route.ts';
import { oauth2ConfigSchema } from './config.ts';
import type * as Implementation from './oauth2-connector.ts';

let implementation: typeof Implementation | undefined;

/** Sign-in through a plain OAuth 2.0 provider (no ID token): GitHub, GitLab, … */
export const oauth2 = {
  type: 'oauth2',
  configSchema: oauth2ConfigSchema,
  load: async () => {
    implementation ??= await import('./oauth2-connector.ts');
  },
  create: (stored, context) =>
    new (loadedImplementation('oauth2', implementation).OAuth2Connector)({
      id: stored.id,
      name: stored.name,
      config: stored.config,
      db: context.db,
      log: context.log,
      issuer: context.issuer,
      now: context.now,
      box: context.box,
      ...(context.observeUpstream && { observeUpstream: context.observeUpstream }),
    }),
  // The client secret is only ever sent to the token endpoint it was saved for.
  upstreamSecrets: {
    target: ['authorizationUrl', 'tokenUrl', 'userinfoUrl', 'groupsUrl', 'clientId'],
    secrets: ['clientSecret'],
  },
  // Lock's tokens say the email was verified (`email_verified`, scope email) where trustEmail vouches for it.
  claimNames: () => ['email_verified'],
  redirect: { callbackRoute: SSO_CALLBACK_ROUTE },
} satisfies ConnectorTypeModule<'oauth2', typeof oauth2ConfigSchema>;
