import { type ConnectorTypeModule, loadedImplementation } from '../connector.ts';
import { SSO_CALLBACK_ROUTE } from '../federation/callback-route.ts';
import { oidcConfigSchema } from './config.ts';
import { EMAIL_VERIFIED_CLAIM } from './identity.ts';
import type * as Implementation from './oidc-connector.ts';

let implementation: typeof Implementation | undefined;

/** Sign-in through an upstream OpenID Connect provider (Entra ID, Google, Okta, another Lock). */
export const oidc = {
  type: 'oidc',
  configSchema: oidcConfigSchema,
  load: async () => {
    implementation ??= await import('./oidc-connector.ts');
  },
  create: (stored, context) =>
    new (loadedImplementation('oidc', implementation).OidcConnector)({
      id: stored.id,
      name: stored.name,
      config: stored.config,
      db: context.db,
      log: context.log,
      box: context.box,
      issuer: context.issuer,
      now: context.now,
      ...(context.observeUpstream && { observeUpstream: context.observeUpstream }),
    }),
  // The client secret is only ever sent to the issuer it was saved for.
  upstreamSecrets: { target: ['issuer', 'allowInsecureIssuer'], secrets: ['clientSecret'] },
  // Lock's tokens say whether the upstream verified the email (`email_verified`, with scope email).
  claimNames: () => [EMAIL_VERIFIED_CLAIM],
  redirect: { callbackRoute: SSO_CALLBACK_ROUTE },
} satisfies ConnectorTypeModule<'oidc', typeof oidcConfigSchema>;
